/**
 * The master playlist as players get it: every URI in it (variant lines, and
 * the `URI="…"` attributes of `EXT-X-MEDIA` audio renditions and of I-frame
 * playlists) made to name the playback job's own files, so everything below
 * the master is immutable and cacheable for a year. A URI left relative to the
 * master would resolve to `/videos/<id>/audio_0/…`, which names no job.
 */

/** Prefixes each relative URI of a master playlist with the job id. */
export function withJobPrefix(master: string, jobId: string): string {
  return master
    .split("\n")
    .map((line) => {
      const trimmed = line.trim();
      if (trimmed === "") return line;
      if (!trimmed.startsWith("#")) return prefixed(trimmed, jobId);
      return line.replace(/\bURI="([^"]*)"/g, (_, uri: string) => `URI="${prefixed(uri, jobId)}"`);
    })
    .join("\n");
}

/** Absolute URIs (a scheme, or a path from the root) already name their file; the transcoder never writes them. */
const prefixed = (uri: string, jobId: string) => (/^([a-z][a-z0-9+.-]*:|\/)/i.test(uri) ? uri : `${jobId}/${uri}`);

/** A caption track as the master playlist names it: `uri` is its WebVTT media playlist, root-relative. */
export type SubtitleRendition = { lang: string; label: string; uri: string };

/**
 * The master playlist naming every caption track: one `EXT-X-MEDIA
 * TYPE=SUBTITLES` each in the group `subs`, before the first variant, and
 * `SUBTITLES="subs"` on every variant, so hls.js and native HLS players list
 * them. None is DEFAULT (captions stay off until a viewer turns them on);
 * each is AUTOSELECT, so a player may pick the viewer's language. NAME must
 * be unique in a group: a label two tracks share gets its language added.
 * Without tracks the master is left as it is.
 */
export function withSubtitles(master: string, tracks: readonly SubtitleRendition[]): string {
  if (tracks.length === 0) return master;
  const shared = (label: string) => tracks.filter((t) => t.label === label).length > 1;
  const media = tracks.map(
    (t) =>
      `#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="${shared(t.label) ? `${t.label} (${t.lang})` : t.label}",` +
      `LANGUAGE="${t.lang}",DEFAULT=NO,AUTOSELECT=YES,URI="${t.uri}"`,
  );
  const lines = master.split("\n");
  const first = lines.findIndex((l) => l.startsWith("#EXT-X-STREAM-INF:"));
  if (first < 0) return master;
  const variants = lines.map((line) =>
    line.startsWith("#EXT-X-STREAM-INF:") && !/[:,]SUBTITLES=/.test(line) ? `${line.trimEnd()},SUBTITLES="subs"` : line,
  );
  return [...variants.slice(0, first), ...media, ...variants.slice(first)].join("\n");
}

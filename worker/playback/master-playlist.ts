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

/**
 * HLS playlists as Reelay writes them, shared by the transcoder (the first
 * rendition's master) and the video's Durable Object (the ladder stitched
 * from its spans, and its master). The master is ours because ffmpeg 5.1's
 * lacks AVERAGE-BANDWIDTH and FRAME-RATE and guesses BANDWIDTH from the
 * requested bit rate instead of the bytes produced.
 */
import type { AudioTrack, Rendition, Segment } from "./job.ts";

/** A rendition as the contract reports it, plus where its media playlist is, for the master. */
export type RenditionMeta = Rendition & { playlist: string };

/** An audio track as the master announces it. */
export type AudioMeta = AudioTrack & { playlist: string };

export type MediaPlaylist = {
  targetDuration: number;
  init: string | null;
  segments: Array<{ uri: string; duration: number }>;
};

export function parseMediaPlaylist(text: string): MediaPlaylist {
  const playlist: MediaPlaylist = { targetDuration: 0, init: null, segments: [] };
  let duration: number | null = null;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line.startsWith("#EXT-X-TARGETDURATION:")) playlist.targetDuration = Number(line.slice(22));
    else if (line.startsWith("#EXT-X-MAP:")) playlist.init = /URI="([^"]+)"/.exec(line)?.[1] ?? null;
    else if (line.startsWith("#EXTINF:")) duration = Number.parseFloat(line.slice(8));
    else if (line && !line.startsWith("#") && duration !== null) {
      playlist.segments.push({ uri: line, duration });
      duration = null;
    }
  }
  return playlist;
}

/**
 * A whole (VOD) fMP4 media playlist: what ffmpeg writes for one run, written
 * here for a rung whose segments came from several. The target duration is
 * the longest segment rounded up, as ffmpeg rounds it.
 */
export function vodMediaPlaylist(init: string, segments: Array<Pick<Segment, "uri" | "duration">>): string {
  const target = Math.max(1, Math.ceil(Math.max(...segments.map((s) => s.duration)) - 1e-6));
  const lines = [
    "#EXTM3U",
    "#EXT-X-VERSION:7",
    `#EXT-X-TARGETDURATION:${target}`,
    "#EXT-X-MEDIA-SEQUENCE:1",
    "#EXT-X-PLAYLIST-TYPE:VOD",
    "#EXT-X-INDEPENDENT-SEGMENTS",
    `#EXT-X-MAP:URI="${init}"`,
    ...segments.flatMap((s) => [`#EXTINF:${s.duration.toFixed(6)},`, s.uri]),
    "#EXT-X-ENDLIST",
  ];
  return `${lines.join("\n")}\n`;
}

/**
 * The largest bit rate of any run of consecutive segments lasting 0.5 to 1.5
 * target durations, as the HLS spec defines the peak; never below the
 * average, so a clip too short for any such run still gets a sane figure.
 */
export function peakBitrate(segments: Array<{ bytes: number; duration: number }>, targetDuration: number): number {
  const totalBytes = segments.reduce((n, s) => n + s.bytes, 0);
  const totalDuration = segments.reduce((n, s) => n + s.duration, 0);
  let peak = totalDuration > 0 ? (totalBytes * 8) / totalDuration : 0;
  for (let start = 0; start < segments.length; start++) {
    let bytes = 0;
    let duration = 0;
    for (let end = start; end < segments.length && duration <= 1.5 * targetDuration; end++) {
      bytes += segments[end].bytes;
      duration += segments[end].duration;
      if (duration >= 0.5 * targetDuration && duration <= 1.5 * targetDuration)
        peak = Math.max(peak, (bytes * 8) / duration);
    }
  }
  return Math.ceil(peak);
}

/** A media rendition's bit rates and size, measured from its segments. */
export type MediaMeasure = {
  name: string;
  /** `<name>/index.m3u8`, as the master refers to it. */
  playlist: string;
  /** Init segment plus segments. */
  bytes: number;
  peakBandwidth: number;
  averageBandwidth: number;
};

/** A rendition's measures from its segments' sizes and durations, and its init segment's size. */
export function measureSegments(
  name: string,
  segments: Array<{ bytes: number; duration: number }>,
  initBytes: number,
  targetDuration: number,
): MediaMeasure & { durationSec: number } {
  const segmentBytes = segments.reduce((n, s) => n + s.bytes, 0);
  const durationSec = segments.reduce((n, s) => n + s.duration, 0);
  const averageBandwidth = Math.ceil((segmentBytes * 8) / durationSec);
  return {
    name,
    playlist: `${name}/index.m3u8`,
    bytes: segmentBytes + initBytes,
    peakBandwidth: Math.max(peakBitrate(segments, targetDuration || 4), averageBandwidth),
    averageBandwidth,
    durationSec: Math.round(durationSec * 1000) / 1000,
  };
}

/**
 * A video rendition as a variant of the master: its bit rates include the
 * largest audio track's, since a player fetches both (RFC 8216 §4.3.4.2), and
 * its CODECS every codec of the audio group.
 */
export function variantOf(
  media: MediaMeasure & { width: number; height: number; frameRate: number; avc1: string },
  audio: AudioMeta[],
): RenditionMeta {
  const audioCodecs = [...new Set(audio.map((a) => a.codecs))];
  const most = (pick: (a: AudioMeta) => number) => Math.max(0, ...audio.map(pick));
  return {
    name: media.name,
    width: media.width,
    height: media.height,
    bandwidth: media.peakBandwidth + most((a) => a.bandwidth),
    averageBandwidth: media.averageBandwidth + most((a) => a.averageBandwidth),
    codecs: [media.avc1, ...audioCodecs].join(","),
    frameRate: Math.round(media.frameRate * 1000) / 1000,
    bytes: media.bytes,
    playlist: media.playlist,
  };
}

/** The audio group every variant refers to. */
const AUDIO_GROUP = "audio";

export function masterPlaylist(renditions: RenditionMeta[], audio: AudioMeta[] = []): string {
  const lines = ["#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-INDEPENDENT-SEGMENTS"];
  for (const a of audio) {
    const attributes = [
      "TYPE=AUDIO",
      `GROUP-ID="${AUDIO_GROUP}"`,
      `NAME="${a.label}"`,
      ...(a.language ? [`LANGUAGE="${a.language}"`] : []),
      `DEFAULT=${a.default ? "YES" : "NO"}`,
      "AUTOSELECT=YES",
      `CHANNELS="${a.channels}"`,
      `URI="${a.playlist}"`,
    ];
    lines.push(`#EXT-X-MEDIA:${attributes.join(",")}`);
  }
  for (const r of [...renditions].sort((a, b) => b.bandwidth - a.bandwidth)) {
    const attributes = [
      `BANDWIDTH=${r.bandwidth}`,
      `AVERAGE-BANDWIDTH=${r.averageBandwidth}`,
      `RESOLUTION=${r.width}x${r.height}`,
      `CODECS="${r.codecs}"`,
      `FRAME-RATE=${r.frameRate.toFixed(3)}`,
      ...(audio.length > 0 ? [`AUDIO="${AUDIO_GROUP}"`] : []),
    ];
    lines.push(`#EXT-X-STREAM-INF:${attributes.join(",")}`, r.playlist);
  }
  return `${lines.join("\n")}\n`;
}

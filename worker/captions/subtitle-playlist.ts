/**
 * What players fetch of a caption track: a WebVTT media playlist of one
 * segment (the whole file) and the file with the `X-TIMESTAMP-MAP` header
 * that ties its cue times to the video's media timeline. Pure.
 */
import { ENCODER_DELAY_FRAMES } from "../contracts/job.ts";

/**
 * A VOD media playlist whose one segment is the whole WebVTT file, as long
 * as the video: players then fetch it once, and hls.js keeps its cues for
 * the whole timeline. `EXT-X-TARGETDURATION` must be at least the segment's
 * duration rounded to an integer.
 */
export function subtitlePlaylist(durationSec: number, vttUri: string): string {
  const duration = Math.max(durationSec, 0.001);
  return [
    "#EXTM3U",
    "#EXT-X-VERSION:3",
    `#EXT-X-TARGETDURATION:${Math.max(1, Math.ceil(duration))}`,
    "#EXT-X-MEDIA-SEQUENCE:0",
    "#EXT-X-PLAYLIST-TYPE:VOD",
    `#EXTINF:${duration.toFixed(3)},`,
    vttUri,
    "#EXT-X-ENDLIST",
    "",
  ].join("\n");
}

/**
 * The `MPEGTS` of `X-TIMESTAMP-MAP`: the media time, in 90 kHz ticks, where
 * `LOCAL:00:00:00.000` falls. A cue's times count from the start of the
 * source as its owner saw it, and the source's first frame sits the encoder
 * delay into our fMP4 segments' timeline, so that is where local zero goes.
 * hls.js places a cue at `local + (MPEGTS − initPTS)` on a timeline whose
 * zero is `initPTS` (the segments' first timestamp): exactly at the frame the
 * cue names, whatever initPTS the segments start at. A player that applies
 * the init segment's edit list (which takes the delay back out) shows cues
 * two frames early, well below what a viewer can notice.
 */
export function timestampMapMpegts(frameRate: number | null): number {
  const fps = frameRate && frameRate > 0 ? frameRate : 30;
  return Math.round((90_000 * ENCODER_DELAY_FRAMES) / fps);
}

/** The WebVTT file with `X-TIMESTAMP-MAP` in its header (right after `WEBVTT`), as HLS players need it. */
export function withTimestampMap(vtt: string, mpegts: number): string {
  const end = vtt.indexOf("\n");
  const first = end < 0 ? vtt : vtt.slice(0, end);
  const rest = end < 0 ? "\n" : vtt.slice(end);
  return `${first}\nX-TIMESTAMP-MAP=MPEGTS:${mpegts},LOCAL:00:00:00.000${rest}`;
}

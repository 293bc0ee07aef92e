/**
 * HLS playlists: each rendition (video rungs, and each audio track on its
 * own) measured from the media playlist ffmpeg wrote, and the master playlist
 * written from those measures. The master is ours,
 * because ffmpeg 5.1's master lacks AVERAGE-BANDWIDTH and FRAME-RATE and
 * guesses BANDWIDTH from the requested bitrate instead of the bytes produced.
 */
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import type { AudioTrack, Rendition } from "../worker/contracts/job.ts";
import { avc1FromInit } from "./codec-strings.ts";

/** A rendition as the contract reports it, plus where its media playlist is, for the master. */
export type RenditionMeta = Rendition & { playlist: string };

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

/** What ffmpeg wrote for one rendition (video or audio), read back from its media playlist and files. */
export type MeasuredMedia = {
  name: string;
  /** `<name>/index.m3u8`, as the master refers to it. */
  playlist: string;
  /** Init segment, segments, then the playlist: the upload order, in which nothing is named before it exists. */
  files: string[];
  /** Init segment plus segments. */
  bytes: number;
  peakBandwidth: number;
  averageBandwidth: number;
  /** The sum of the segments' durations: how long it really plays. */
  durationSec: number;
  init: Buffer | null;
};

/**
 * Measures a rendition from its media playlist on disk, or from `text`, the
 * playlist as published so far; segment sizes from `sizes` (by path in the
 * work dir) for segments no longer on disk, else from the files.
 */
export async function measureMedia(
  workDir: string,
  name: string,
  options: { text?: string; sizes?: Map<string, number> } = {},
): Promise<MeasuredMedia> {
  const playlistPath = `${name}/index.m3u8`;
  const playlist = parseMediaPlaylist(options.text ?? (await readFile(join(workDir, playlistPath), "utf8")));
  if (playlist.segments.length === 0) throw new Error(`${playlistPath} lists no segments`);
  const sizeOf = async (uri: string) =>
    options.sizes?.get(`${name}/${uri}`) ?? (await stat(join(workDir, name, uri))).size;
  const segments = await Promise.all(playlist.segments.map(async (s) => ({ ...s, bytes: await sizeOf(s.uri) })));
  const init = playlist.init ? await readFile(join(workDir, name, playlist.init)) : null;
  const segmentBytes = segments.reduce((n, s) => n + s.bytes, 0);
  const durationSec = segments.reduce((n, s) => n + s.duration, 0);
  const averageBandwidth = Math.ceil((segmentBytes * 8) / durationSec);
  return {
    name,
    playlist: playlistPath,
    files: [
      ...(playlist.init ? [`${name}/${playlist.init}`] : []),
      ...segments.map((s) => `${name}/${s.uri}`),
      playlistPath,
    ],
    bytes: segmentBytes + (init?.length ?? 0),
    peakBandwidth: Math.max(peakBitrate(segments, playlist.targetDuration || 4), averageBandwidth),
    averageBandwidth,
    durationSec: Math.round(durationSec * 1000) / 1000,
    init,
  };
}

/** An audio track as the master announces it; `averageBandwidth` adds to each variant's. */
export type AudioMeta = AudioTrack & { playlist: string; averageBandwidth: number };

export function audioRendition(
  media: MeasuredMedia,
  track: Pick<AudioTrack, "language" | "label" | "default" | "channels">,
): AudioMeta {
  return {
    name: media.name,
    ...track,
    codecs: "mp4a.40.2",
    bandwidth: media.peakBandwidth,
    averageBandwidth: media.averageBandwidth,
    bytes: media.bytes,
    playlist: media.playlist,
  };
}

/**
 * A video rendition as a variant of the master: its bit rates include the
 * largest audio track's, since a player fetches both (RFC 8216 §4.3.4.2), and
 * its CODECS every codec of the audio group.
 */
export function videoRendition(
  media: MeasuredMedia,
  video: { width: number; height: number; frameRate: number; fallbackAvc1: string },
  audio: AudioMeta[],
): RenditionMeta {
  const avc1 = (media.init && avc1FromInit(media.init)) || video.fallbackAvc1;
  const audioCodecs = [...new Set(audio.map((a) => a.codecs))];
  const most = (pick: (a: AudioMeta) => number) => Math.max(0, ...audio.map(pick));
  return {
    name: media.name,
    width: video.width,
    height: video.height,
    bandwidth: media.peakBandwidth + most((a) => a.bandwidth),
    averageBandwidth: media.averageBandwidth + most((a) => a.averageBandwidth),
    codecs: [avc1, ...audioCodecs].join(","),
    frameRate: Math.round(video.frameRate * 1000) / 1000,
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

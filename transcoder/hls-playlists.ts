/**
 * HLS playlists: each rendition measured from the media playlist ffmpeg
 * wrote, and the master playlist written from those measures. The master is ours,
 * because ffmpeg 5.1's master lacks AVERAGE-BANDWIDTH and FRAME-RATE and
 * guesses BANDWIDTH from the requested bitrate instead of the bytes produced.
 */
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Rendition } from "../worker/contracts/job.ts";
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

export type MeasureInput = {
  workDir: string;
  name: string;
  width: number;
  height: number;
  frameRate: number;
  /** The mp4a string when the rendition has audio. */
  audioCodecs: string | null;
  /** Used only if the init segment has no readable avcC. */
  fallbackAvc1: string;
};

/** Reads what ffmpeg produced for one rendition: its files in upload order and its master entry. */
export async function measureRendition(input: MeasureInput): Promise<{ meta: RenditionMeta; files: string[] }> {
  const playlistPath = `${input.name}/index.m3u8`;
  const playlist = parseMediaPlaylist(await readFile(join(input.workDir, playlistPath), "utf8"));
  if (playlist.segments.length === 0) throw new Error(`${playlistPath} lists no segments`);
  const sizeOf = async (uri: string) => (await stat(join(input.workDir, input.name, uri))).size;
  const segments = await Promise.all(playlist.segments.map(async (s) => ({ ...s, bytes: await sizeOf(s.uri) })));
  const init = playlist.init ? await readFile(join(input.workDir, input.name, playlist.init)) : null;
  const segmentBytes = segments.reduce((n, s) => n + s.bytes, 0);
  const duration = segments.reduce((n, s) => n + s.duration, 0);
  const averageBandwidth = Math.ceil((segmentBytes * 8) / duration);
  const avc1 = (init && avc1FromInit(init)) || input.fallbackAvc1;
  const meta: RenditionMeta = {
    name: input.name,
    width: input.width,
    height: input.height,
    bandwidth: Math.max(peakBitrate(segments, playlist.targetDuration || 4), averageBandwidth),
    averageBandwidth,
    codecs: input.audioCodecs ? `${avc1},${input.audioCodecs}` : avc1,
    frameRate: Math.round(input.frameRate * 1000) / 1000,
    bytes: segmentBytes + (init?.length ?? 0),
    playlist: playlistPath,
  };
  // The playlist goes last: once it is visible, everything it names must be too.
  const files = [
    ...(playlist.init ? [`${input.name}/${playlist.init}`] : []),
    ...segments.map((s) => `${input.name}/${s.uri}`),
    playlistPath,
  ];
  return { meta, files };
}

export function masterPlaylist(renditions: RenditionMeta[]): string {
  const lines = ["#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-INDEPENDENT-SEGMENTS"];
  for (const r of [...renditions].sort((a, b) => b.bandwidth - a.bandwidth)) {
    const attributes = [
      `BANDWIDTH=${r.bandwidth}`,
      `AVERAGE-BANDWIDTH=${r.averageBandwidth}`,
      `RESOLUTION=${r.width}x${r.height}`,
      `CODECS="${r.codecs}"`,
      `FRAME-RATE=${r.frameRate.toFixed(3)}`,
    ];
    lines.push(`#EXT-X-STREAM-INF:${attributes.join(",")}`, r.playlist);
  }
  return `${lines.join("\n")}\n`;
}

/**
 * Each rendition (video rungs, and each audio track on its own) measured
 * from the media playlist ffmpeg wrote, for the master playlist
 * (worker/contracts/hls-playlists.ts) to be written from those measures.
 */
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import type { AudioTrack } from "../worker/contracts/job.ts";
import {
  type AudioMeta,
  type MediaMeasure,
  measureSegments,
  parseMediaPlaylist,
  type RenditionMeta,
  variantOf,
} from "../worker/contracts/hls-playlists.ts";
import { avc1FromInit } from "./codec-strings.ts";

/** What ffmpeg wrote for one rendition (video or audio), read back from its media playlist and files. */
export type MeasuredMedia = MediaMeasure & {
  /** Init segment, segments, then the playlist: the upload order, in which nothing is named before it exists. */
  files: string[];
  /** The sum of the segments' durations: how long it really plays. */
  durationSec: number;
  segments: Array<{ uri: string; duration: number; bytes: number }>;
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
  return {
    ...measureSegments(name, segments, init?.length ?? 0, playlist.targetDuration),
    files: [
      ...(playlist.init ? [`${name}/${playlist.init}`] : []),
      ...segments.map((s) => `${name}/${s.uri}`),
      playlistPath,
    ],
    segments,
    init,
  };
}

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

/** A video rendition as a variant of the master, its codec string read from its init segment. */
export function videoRendition(
  media: MeasuredMedia,
  video: { width: number; height: number; frameRate: number; fallbackAvc1: string },
  audio: AudioMeta[],
): RenditionMeta {
  const avc1 = (media.init && avc1FromInit(media.init)) || video.fallbackAvc1;
  return variantOf({ ...media, ...video, avc1 }, audio);
}

/**
 * The ladder in spans, pure: how the video's Durable Object cuts what the
 * first task left to encode into spans of about `spanSeconds`, and how it
 * stitches each rung's playlist and the final master from what the spans
 * report. The transcoder's tests and benchmark run the same functions.
 */
import {
  type AudioMeta,
  masterPlaylist,
  measureSegments,
  type RenditionMeta,
  variantOf,
  vodMediaPlaylist,
} from "../contracts/hls-playlists.ts";
import type { AudioTrack, Ladder, Rendition, SpanRung, SpanTask } from "../contracts/job.ts";

/** A span as planned: SpanTask without the attempt and rungs the hand-off adds. */
export type PlannedSpan = Omit<SpanTask, "attempt" | "rungs"> & {
  /** How long the span plays, in seconds: what progress counts. */
  durationSec: number;
};

/**
 * Spans of a whole number of segments, each as near `spanSeconds` as that
 * allows, covering the ladder's duration. The last runs to the end of the
 * source (its `frames` is null), so a duration measured slightly short loses
 * nothing, and lasts half a span to a span and a half: a sliver of a span
 * would cost a whole encoder start, and one too short for B-frames would
 * write another init segment than the rest.
 */
export function planSpans(ladder: Ladder, spanSeconds: number): PlannedSpan[] {
  const fps = ladder.frameRate.num / ladder.frameRate.den;
  const segmentSec = ladder.segmentFrames / fps;
  const segmentsPerSpan = Math.max(1, Math.round(spanSeconds / segmentSec));
  const spanFrames = segmentsPerSpan * ladder.segmentFrames;
  const totalFrames = Math.max(1, Math.round(ladder.durationSec * fps));
  const count = Math.max(1, Math.round(totalFrames / spanFrames));
  return Array.from({ length: count }, (_, index) => {
    const startFrame = index * spanFrames;
    const last = index === count - 1;
    const frames = last ? Math.max(1, totalFrames - startFrame) : spanFrames;
    return {
      index,
      // Exact for NTSC rates: whole frames times den / num.
      startSec: (startFrame * ladder.frameRate.den) / ladder.frameRate.num,
      frames: last ? null : spanFrames,
      startNumber: 1 + index * segmentsPerSpan,
      durationSec: (frames * ladder.frameRate.den) / ladder.frameRate.num,
    };
  });
}

/** Why the spans of a rung cannot be stitched: a bug or a changed encoder, never the user's file. */
export class StitchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StitchError";
  }
}

/** The init segment every span of every rung shares the name of; span 0 uploads it. */
export const LADDER_INIT = "init.mp4";

/**
 * One rung's media playlist from its spans' results, in span order, and its
 * variant for the master. Every span must have written the same init
 * segment (the player reads one per rung), and segment numbers must not repeat.
 */
export function stitchRung(
  name: string,
  spans: SpanRung[],
  audio: AudioMeta[],
  frameRate: number,
): { playlist: string; rendition: RenditionMeta } {
  const [first] = spans;
  if (!first) throw new StitchError(`${name}: no span reported it`);
  const mismatched = spans.findIndex((s) => s.init.sha256 !== first.init.sha256);
  if (mismatched >= 0) throw new StitchError(`${name}: span ${mismatched}'s init segment differs from span 0's`);
  const segments = spans.flatMap((s) => s.segments);
  const numbers = segments.map((s) => s.uri.split(".")[0]);
  if (new Set(numbers).size !== numbers.length) throw new StitchError(`${name}: two spans wrote the same segment`);
  const target = Math.ceil(Math.max(...segments.map((s) => s.duration)) - 1e-6);
  const measure = measureSegments(name, segments, first.init.bytes, target);
  const rendition = variantOf(
    { ...measure, width: first.width, height: first.height, frameRate, avc1: first.codecs },
    audio,
  );
  return { playlist: vodMediaPlaylist(LADDER_INIT, segments), rendition };
}

/** The audio tracks as the master lists them: each its own rendition in its own directory. */
export const audioMetas = (tracks: AudioTrack[]): AudioMeta[] =>
  tracks.map((t) => ({ ...t, playlist: `${t.name}/index.m3u8` }));

/**
 * The final master: the first task's encoded rendition when it was a rung
 * (a copy of the source is not: it leaves the master), then the stitched rungs.
 */
export function ladderMaster(first: Rendition, stitched: RenditionMeta[], audio: AudioMeta[]) {
  const kept: RenditionMeta[] = first.name === "source" ? [] : [{ ...first, playlist: `${first.name}/index.m3u8` }];
  const renditions = [...kept, ...stitched].sort((a, b) => b.bandwidth - a.bandwidth);
  return { master: masterPlaylist(renditions, audio), renditions };
}

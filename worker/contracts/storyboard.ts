/**
 * The ladder's frames and storyboard, pure: the sizes frames are stored at,
 * their file names under a job, which frame a thumbnail request gets, the
 * runs of frames the tasks report joined into one `Frames`, and the WebVTT
 * storyboard built from them. The transcoder (which writes the frames, and
 * the storyboard when one task wrote them all) and the video's Durable
 * Object (which writes the storyboard from the spans' reports) and the
 * playback routes all use these, so there is one writer of each format.
 */
import type { Frames, SpanFrames, SpriteLayout } from "./job.ts";

/**
 * Widths frames are stored at: a seek-bar tile, a card, a page's picture, a
 * full-width still. No larger: every width costs bytes at every 2 s, and a
 * thumbnail is a picture to choose or preview, not the video itself.
 */
export const FRAME_WIDTHS = [160, 320, 640, 1280] as const;

/** Sprite sheets of 5 × 6 tiles: 60 s at 2 s a frame, one default span's worth (SPAN_SECONDS). */
export const SPRITE_GRID = { columns: 5, rows: 6 } as const;

/** Where the frames and sheets live in a job's files: one directory, beside the rungs'. */
export const FRAMES_DIR = "frames";

/** The storyboard's file in a job. */
export const STORYBOARD_FILE = "storyboard.vtt";

const even = (n: number) => Math.max(2, 2 * Math.round(n / 2));
const pad = (n: number) => String(n).padStart(5, "0");

/** A frame size for a top rung of `width` × `height`: `width` wide, its height kept in proportion, even. */
export const frameHeight = (frameWidth: number, width: number, height: number) => even((frameWidth * height) / width);

/** The widths to store for a top rung `width` wide: those of FRAME_WIDTHS it fits, else its own. */
export function frameWidths(width: number): number[] {
  const fitting = FRAME_WIDTHS.filter((w) => w <= width);
  return fitting.length > 0 ? [...fitting] : [width];
}

/** The sprite layout for a top rung of `width` × `height`: tiles of its smallest frame width. */
export function spriteLayout(width: number, height: number): SpriteLayout {
  const tileWidth = frameWidths(width)[0]!;
  return { tileWidth, tileHeight: frameHeight(tileWidth, width, height), ...SPRITE_GRID };
}

/** Frame `index` at `width`, as a job's file. */
export const frameFile = (width: number, index: number) => `${FRAMES_DIR}/${width}_${pad(index)}.jpg`;

/** The sprite sheet whose first tile is frame `first`, as a job's file. */
export const spriteFile = (first: number) => `${FRAMES_DIR}/sprite_${pad(first)}.jpg`;

/** The index of the frame nearest `timeSec`, clamped to the frames there are. */
export function nearestFrame(frames: Pick<Frames, "intervalSec" | "count">, timeSec: number): number {
  const index = Math.round(Math.max(0, timeSec) / frames.intervalSec);
  return Math.min(frames.count - 1, index);
}

/**
 * The stored width to answer a request for `requested` pixels with: the
 * largest not wider (never upscaled), the smallest when all are wider, the
 * largest when none is asked for.
 */
export function frameWidthFor(frames: Pick<Frames, "widths">, requested?: number): number {
  const widths = [...frames.widths].sort((a, b) => a - b);
  if (requested === undefined) return widths[widths.length - 1]!;
  return widths.filter((w) => w <= requested).pop() ?? widths[0]!;
}

/** The sheets of one task's run of frames, each with the frames it holds. */
function sheetsOf(run: Pick<SpanFrames, "first" | "count">, layout: SpriteLayout) {
  const perSheet = layout.columns * layout.rows;
  return Array.from({ length: Math.ceil(run.count / perSheet) }, (_, k) => {
    const first = run.first + k * perSheet;
    return { first, count: Math.min(perSheet, run.count - k * perSheet) };
  });
}

/**
 * The tasks' runs of frames as one `Frames`, or null when they do not fit
 * together (not contiguous from 0, another interval, widths or layout): a
 * bug or a changed transcoder, and then the video has no frames rather than
 * wrong ones.
 */
export function joinFrameRuns(runs: SpanFrames[]): Frames | null {
  const [first] = runs;
  if (!first) return null;
  let next = 0;
  for (const run of runs) {
    const same =
      run.intervalSec === first.intervalSec &&
      run.widths.join() === first.widths.join() &&
      JSON.stringify(run.sprite) === JSON.stringify(first.sprite);
    if (!same || run.first !== next) return null;
    next += run.count;
  }
  return {
    intervalSec: first.intervalSec,
    count: next,
    widths: first.widths,
    sprite: first.sprite,
    bytes: runs.reduce((n, r) => n + r.bytes, 0),
  };
}

/** `hh:mm:ss.ttt`, as WebVTT writes a time. */
function vttTime(sec: number): string {
  const ms = Math.round(sec * 1000);
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor(ms / 60_000) % 60;
  const s = Math.floor(ms / 1000) % 60;
  const two = (n: number) => String(n).padStart(2, "0");
  return `${two(h)}:${two(m)}:${two(s)}.${String(ms % 1000).padStart(3, "0")}`;
}

/**
 * The WebVTT storyboard of `runs` (as the tasks wrote them, in order): one
 * cue per frame, from halfway to the previous frame to halfway to the next
 * (so the cue at any time is the nearest frame, as thumbnails answer), its
 * text the sheet's path relative to the job (`frames/sprite_00000.jpg`) with
 * `#xywh=` the tile. The last cue ends at `durationSec`.
 */
export function storyboardVtt(frames: Frames, runs: Array<Pick<SpanFrames, "first" | "count">>, durationSec: number) {
  const { intervalSec, sprite } = frames;
  const lines = ["WEBVTT", ""];
  for (const run of runs) {
    for (const sheet of sheetsOf(run, sprite)) {
      for (let j = 0; j < sheet.count; j++) {
        const i = sheet.first + j;
        const start = i === 0 ? 0 : (i - 0.5) * intervalSec;
        const end = i === frames.count - 1 ? Math.max(durationSec, start + 0.001) : (i + 0.5) * intervalSec;
        const x = (j % sprite.columns) * sprite.tileWidth;
        const y = Math.floor(j / sprite.columns) * sprite.tileHeight;
        lines.push(`${vttTime(start)} --> ${vttTime(end)}`);
        lines.push(`${spriteFile(sheet.first)}#xywh=${x},${y},${sprite.tileWidth},${sprite.tileHeight}`, "");
      }
    }
  }
  return lines.join("\n");
}

/** The sheets of `runs`, as job files: what a task writes besides its frames. */
export const spriteFiles = (runs: Array<Pick<SpanFrames, "first" | "count">>, layout: SpriteLayout) =>
  runs.flatMap((run) => sheetsOf(run, layout).map((s) => spriteFile(s.first)));

/**
 * The frames the spans reported (the top rung's, in span order) as one
 * `Frames` with their storyboard; null when they reported none, or when
 * they do not fit together.
 */
export function stitchFrames(runs: SpanFrames[], durationSec: number): { frames: Frames; vtt: string } | null {
  const frames = joinFrameRuns(runs);
  return frames ? { frames, vtt: storyboardVtt(frames, runs, durationSec) } : null;
}

/**
 * The job file that is a video's poster: the frame nearest the owner's
 * `posterTime`, at the largest width, once the frames exist; the first
 * task's `poster.jpg` otherwise.
 */
export function posterFile(video: { frames: Frames | null; posterTime: number | null }): string {
  const { frames, posterTime } = video;
  if (posterTime === null || !frames) return "poster.jpg";
  return frameFile(frameWidthFor(frames), nearestFrame(frames, posterTime));
}

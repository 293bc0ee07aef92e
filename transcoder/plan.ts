/**
 * The ladder: which renditions to make from a source and how. Pure, so the
 * rules (never upscale, portrait keeps its shape, even sizes for 4:2:0, one
 * frame rate and GOP for every rendition so players can switch at any segment)
 * are tested without running ffmpeg.
 */
import type { SourceInfo } from "./probe.ts";

export type Rung = {
  /** e.g. "720p": named for the short side, so portrait 720x1280 is 720p too. */
  name: string;
  width: number;
  height: number;
  videoKbps: number;
  maxrateKbps: number;
  bufsizeKbps: number;
  audioKbps: number;
  profile: "high" | "main";
};

export type Plan = {
  /** Highest first. */
  rungs: Rung[];
  /** The rendition encoded alone first when the source cannot be remuxed. */
  quick: Rung;
  /** The source can be copied into HLS as is and played at once. */
  remux: boolean;
  frameRate: number;
  /** For ffmpeg's fps filter: exact rationals for NTSC rates, so they do not drift. */
  frameRateExpr: string;
  /** Fixed 2 s GOP: every rendition has keyframes at the same instants. */
  gopFrames: number;
  audio: { channels: number; sampleRate: number } | null;
};

const LADDER: Array<{ short: number; videoKbps: number }> = [
  { short: 1080, videoKbps: 5000 },
  { short: 720, videoKbps: 2800 },
  { short: 480, videoKbps: 1400 },
  { short: 360, videoKbps: 800 },
  { short: 240, videoKbps: 400 },
];

export const SEGMENT_SECONDS = 4;
export const GOP_SECONDS = 2;
/** libx264's preset for every rendition, the quick one and the ladder alike. */
export const LADDER_PRESET = "veryfast";
const MAX_FPS = 60;
/** Remuxed segments can only start at source keyframes; beyond this, encode instead. */
const MAX_REMUX_KEYFRAME_INTERVAL = 10;

const even = (n: number) => Math.max(2, 2 * Math.round(n / 2));

function rung(short: number, longSide: number, sourceShort: number, portrait: boolean, videoKbps: number): Rung {
  const long = even((longSide * short) / sourceShort);
  return {
    name: `${short}p`,
    width: portrait ? short : long,
    height: portrait ? long : short,
    videoKbps,
    maxrateKbps: Math.round(videoKbps * 1.07),
    bufsizeKbps: videoKbps * 2,
    audioKbps: short <= 360 ? 96 : 128,
    profile: short >= 480 ? "high" : "main",
  };
}

export function planLadder(source: Pick<SourceInfo, "width" | "height">): Rung[] {
  const portrait = source.height > source.width;
  const short = Math.min(source.width, source.height);
  const long = Math.max(source.width, source.height);
  const fitting = LADDER.filter((r) => r.short <= short);
  if (fitting.length > 0) return fitting.map((r) => rung(r.short, long, short, portrait, r.videoKbps));
  // Smaller than the lowest rung: one rendition at the source's own (even) size.
  const own = Math.max(2, short - (short % 2));
  const pixelsVs240 = (own * even(long)) / (240 * 426);
  return [rung(own, long, short, portrait, Math.round(400 * Math.max(0.25, pixelsVs240)))];
}

/** The smallest rung of at least 360 lines: quick to encode, still watchable. */
export function quickRung(rungs: Rung[]): Rung {
  const atLeast360 = rungs.filter((r) => Math.min(r.width, r.height) >= 360);
  return atLeast360[atLeast360.length - 1] ?? rungs[0];
}

const PROFILES_WITHOUT_EXTRAS = new Set(["Constrained Baseline", "Baseline", "Main", "High"]);

/**
 * Copying is only safe when every browser can decode the stream as is:
 * 8-bit 4:2:0 H.264 in a profile players support, AAC or no audio. Rotated
 * or non-square-pixel sources are encoded too, because MSE players do not
 * all honour the container's rotation matrix or aspect ratio.
 */
export function canRemux(source: SourceInfo): boolean {
  return (
    source.videoCodec === "h264" &&
    (source.pixelFormat === "yuv420p" || source.pixelFormat === "yuvj420p") &&
    PROFILES_WITHOUT_EXTRAS.has(source.profile ?? "") &&
    (source.audioCodec === null || source.audioCodec === "aac") &&
    source.rotation === 0 &&
    source.squarePixels &&
    source.maxKeyframeIntervalSec !== null &&
    source.maxKeyframeIntervalSec <= MAX_REMUX_KEYFRAME_INTERVAL
  );
}

// Rates the AAC encoder accepts, at most 48 kHz (nobody hears more; it only costs bits).
const AAC_RATES = [48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000];

const NTSC: Array<[number, string]> = [
  [24000 / 1001, "24000/1001"],
  [30000 / 1001, "30000/1001"],
  [60000 / 1001, "60000/1001"],
];

export function outputFrameRate(sourceFps: number): { frameRate: number; frameRateExpr: string } {
  const fps = Math.min(sourceFps, MAX_FPS);
  const ntsc = NTSC.find(([value]) => Math.abs(value - fps) < 0.005);
  if (ntsc) return { frameRate: ntsc[0], frameRateExpr: ntsc[1] };
  // Variable-frame-rate phones report averages like 29.98: snap to the nearest whole rate.
  const whole = Math.round(fps);
  const snapped = Math.abs(whole - fps) / fps < 0.01 ? whole : Math.round(fps * 1000) / 1000;
  return { frameRate: snapped, frameRateExpr: String(snapped) };
}

export function planTranscode(source: SourceInfo): Plan {
  const rungs = planLadder(source);
  const { frameRate, frameRateExpr } = outputFrameRate(source.frameRate);
  return {
    rungs,
    quick: quickRung(rungs),
    remux: canRemux(source),
    frameRate,
    frameRateExpr,
    gopFrames: Math.max(1, Math.round(GOP_SECONDS * frameRate)),
    audio:
      source.audioCodec === null
        ? null
        : {
            channels: Math.min(source.audioChannels ?? 2, 2),
            sampleRate: AAC_RATES.find((r) => r <= (source.audioSampleRate ?? 48000)) ?? 48000,
          },
  };
}

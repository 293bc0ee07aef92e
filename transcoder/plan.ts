/**
 * The ladder: which renditions to make from a source and how. Pure, so the
 * rules (never upscale, portrait keeps its shape, even sizes for 4:2:0, one
 * frame rate and GOP for every rendition so players can switch at any segment)
 * are tested without running ffmpeg.
 */
import type { AudioSource, SourceInfo } from "./probe.ts";

export type Rung = {
  /** e.g. "720p": named for the short side, so portrait 720x1280 is 720p too. */
  name: string;
  width: number;
  height: number;
  videoKbps: number;
  maxrateKbps: number;
  bufsizeKbps: number;
  profile: "high" | "main";
};

/** One audio track as published: its own HLS rendition, shared by every video rung. */
export type AudioPlan = {
  /** `0:a:<source>` in ffmpeg's terms. */
  source: number;
  /** Directory and rendition name, `audio_<n>`. */
  name: string;
  /** AAC-LC at most stereo can be copied as is; anything else is encoded to it. */
  copyable: boolean;
  channels: number;
  sampleRate: number;
  kbps: number;
  /** BCP 47 (`en`, `pt-BR`), or null when untagged. */
  language: string | null;
  /** Unique within the video: HLS requires distinct names in one group. */
  label: string;
  isDefault: boolean;
};

/** What the source needs before scaling so every rung looks right on an SDR, progressive screen. */
export type PictureFix = {
  /** bwdif: `field` keeps the field rate (50i becomes 50p), `frame` keeps the frame rate. */
  deinterlace: { parity: "tff" | "bff"; rate: "field" | "frame" } | null;
  /** Tone-map PQ or HLG to SDR BT.709. */
  toneMap: "pq" | "hlg" | null;
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
  picture: PictureFix;
  audio: AudioPlan[];
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
/**
 * How many frames libx264 at LADDER_PRESET holds back (contracts/job.ts
 * ENCODER_DELAY_FRAMES): a span starting later than 0 is shifted as much by
 * hand (encode.ts `spanRun`), so the spans' timestamps are the continuous encode's.
 */
export { ENCODER_DELAY_FRAMES } from "../worker/contracts/job.ts";
const MAX_FPS = 60;
/** The contract's cap; broadcast files with more tracks keep the first ones. */
const MAX_AUDIO_TRACKS = 16;

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
 * progressive 8-bit 4:2:0 SDR H.264 in a profile players support. Rotated or
 * non-square-pixel sources are encoded too, because MSE players do not all
 * honour the container's rotation matrix or aspect ratio; interlaced ones
 * would show combing, HDR ones a washed-out picture. Audio is its own
 * rendition, copied or encoded, so it never stands in the way. Keyframes too
 * sparse to cut segments at are found by the copy itself (pipeline.ts
 * `copyFirst`), which then gives way to encoding.
 */
export function canRemux(source: SourceInfo): boolean {
  return (
    source.interlaced === null &&
    source.hdr === null &&
    source.videoCodec === "h264" &&
    (source.pixelFormat === "yuv420p" || source.pixelFormat === "yuvj420p") &&
    PROFILES_WITHOUT_EXTRAS.has(source.profile ?? "") &&
    source.rotation === 0 &&
    source.squarePixels
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

/**
 * Interlaced video is shown at its field rate (50i as 50p, 60i as 59.94p),
 * which keeps its motion smooth, whenever that fits the ladder's 60 fps cap.
 */
export function planPicture(source: Pick<SourceInfo, "interlaced" | "hdr" | "frameRate">): PictureFix {
  const deinterlace = source.interlaced
    ? {
        parity: source.interlaced,
        rate: source.frameRate * 2 <= MAX_FPS + 0.5 ? ("field" as const) : ("frame" as const),
      }
    : null;
  return { deinterlace, toneMap: source.hdr };
}

const AUDIO_KBPS = { mono: 96, stereo: 128 };

/** ISO 639-2 tags (`eng`, `fre`) as BCP 47 (`en`, `fr`); null for `und` or anything not a language tag. */
export function languageTag(tag: string | null): string | null {
  if (!tag || /^(und|mis|mul|zxx)$/i.test(tag)) return null;
  try {
    return Intl.getCanonicalLocales(tag)[0] ?? null;
  } catch {
    return null;
  }
}

const languageNames = new Intl.DisplayNames(["en"], { type: "language", fallback: "none" });

/** The audio menu's words: the track's own title, else its language's English name, else "Track n". */
function labelOf(track: AudioSource, language: string | null): string {
  // It lands in a quoted playlist attribute: no quotes, no control characters.
  const title = (track.title ?? "")
    .replace(/[\u0000-\u001f\u007f"]/g, "")
    .trim()
    .slice(0, 80);
  if (title) return title;
  const named = language ? languageNames.of(language) : undefined;
  return named || `Track ${track.index + 1}`;
}

export function planAudio(tracks: AudioSource[]): AudioPlan[] {
  const defaultAt = Math.max(
    0,
    tracks.findIndex((t) => t.isDefault),
  );
  const seen = new Map<string, number>();
  return tracks.map((t, n) => {
    const language = languageTag(t.language);
    const base = labelOf(t, language);
    const count = (seen.get(base.toLowerCase()) ?? 0) + 1;
    seen.set(base.toLowerCase(), count);
    const channels = Math.min(t.channels, 2);
    return {
      source: t.index,
      name: `audio_${n}`,
      copyable:
        t.codec === "aac" && (t.profile === "LC" || t.profile === null) && t.channels <= 2 && t.sampleRate <= 48000,
      channels,
      sampleRate: AAC_RATES.find((r) => r <= t.sampleRate) ?? 48000,
      kbps: channels === 1 ? AUDIO_KBPS.mono : AUDIO_KBPS.stereo,
      language,
      label: count === 1 ? base : `${base} (${count})`,
      isDefault: n === defaultAt,
    };
  });
}

/**
 * Frames in one HLS segment of the ladder: the muxer cuts at the first
 * keyframe at least SEGMENT_SECONDS into a segment, and keyframes come every
 * `gopFrames`.
 */
export function segmentFrames(plan: Pick<Plan, "gopFrames" | "frameRate">): number {
  const gopSec = plan.gopFrames / plan.frameRate;
  return Math.max(1, Math.ceil(SEGMENT_SECONDS / gopSec - 1e-9)) * plan.gopFrames;
}

/** `frameRateExpr` as a fraction: NTSC's `30000/1001`, or a decimal such as `29.5` as `59/2`. */
export function frameRateFraction(expr: string): { num: number; den: number } {
  const [n, d = "1"] = expr.split("/");
  const decimals = (n.split(".")[1] ?? "").length;
  let num = Math.round(Number(n) * 10 ** decimals);
  let den = Number(d) * 10 ** decimals;
  const gcd = (a: number, b: number): number => (b ? gcd(b, a % b) : a);
  const g = gcd(num, den);
  num /= g;
  den /= g;
  return { num, den };
}

export function planTranscode(source: SourceInfo): Plan {
  const rungs = planLadder(source);
  const picture = planPicture(source);
  const shownRate = picture.deinterlace?.rate === "field" ? source.frameRate * 2 : source.frameRate;
  const { frameRate, frameRateExpr } = outputFrameRate(shownRate);
  return {
    rungs,
    quick: quickRung(rungs),
    remux: canRemux(source),
    frameRate,
    frameRateExpr,
    gopFrames: Math.max(1, Math.round(GOP_SECONDS * frameRate)),
    picture,
    audio: planAudio(source.audio.slice(0, MAX_AUDIO_TRACKS)),
  };
}

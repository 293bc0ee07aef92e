/**
 * A WebVTT storyboard read for the seek bar (seek-bar.ts): its cues' times
 * and tiles, and the cue showing a time. No DOM, so it is tested in workerd.
 */

/** One cue of a storyboard: from `start` to `end` seconds, the tile at `x,y,w,h` of `sprite`. */
export type StoryboardCue = { start: number; end: number; sprite: string; x: number; y: number; w: number; h: number };

/** `hh:mm:ss.ttt` or `mm:ss.ttt` in seconds; NaN for anything else. */
function vttSeconds(text: string): number {
  const match = /^(?:(\d+):)?(\d{2}):(\d{2})\.(\d{3})$/.exec(text.trim());
  if (!match) return Number.NaN;
  const [, hours = "0", minutes, seconds, millis] = match;
  return Number(hours) * 3600 + Number(minutes) * 60 + Number(seconds) + Number(millis) / 1000;
}

/**
 * The cues of a WebVTT storyboard, their sprite URLs resolved against `base`
 * (the storyboard's own URL). Cues without a `#xywh=` tile are passed over.
 */
export function parseStoryboard(vtt: string, base: string): StoryboardCue[] {
  const cues: StoryboardCue[] = [];
  for (const block of vtt.replace(/\r\n?/g, "\n").split(/\n{2,}/)) {
    const lines = block.split("\n").filter((l) => l.trim() !== "");
    const timing = lines.findIndex((l) => l.includes("-->"));
    const payload = lines[timing + 1];
    if (timing < 0 || !payload) continue;
    const [from = "", to = ""] = lines[timing]!.split("-->");
    const tile = /^(.*)#xywh=(\d+),(\d+),(\d+),(\d+)$/.exec(payload.trim());
    const start = vttSeconds(from);
    const end = vttSeconds(to.trim().split(/\s+/)[0] ?? "");
    if (!tile || !Number.isFinite(start) || !Number.isFinite(end)) continue;
    const [, sprite = "", x, y, w, hh] = tile;
    cues.push({ start, end, sprite: new URL(sprite, base).href, x: +x!, y: +y!, w: +w!, h: +hh! });
  }
  return cues;
}

/** The cue showing `time`: the last that starts at or before it. */
export function cueAt(cues: readonly StoryboardCue[], time: number): StoryboardCue | null {
  let low = 0;
  let high = cues.length - 1;
  let found: StoryboardCue | null = null;
  while (low <= high) {
    const mid = (low + high) >> 1;
    if (cues[mid]!.start <= time) {
      found = cues[mid]!;
      low = mid + 1;
    } else high = mid - 1;
  }
  return found;
}

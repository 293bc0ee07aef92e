/**
 * A file can declare more than it holds: an upload or recording cut off
 * after its index was written (a "faststart" MP4 cut at 60% still claims its
 * full length). What the encode produced is the truth: the video plays that
 * long, the owner is told it looks truncated, and a file of which almost
 * nothing plays fails instead of publishing a blink.
 */
import type { SourceWarning } from "../worker/contracts/job.ts";
import { unusableSource } from "./errors.ts";

/** Rounding of the last frame or audio packet, and of a variable frame rate, is not truncation. */
const TOLERANCE_SEC = 1;
const TOLERANCE_SHARE = 0.02;
/** Less than this plays: nothing worth publishing. */
const UNPLAYABLE_SHARE = 0.05;
const UNPLAYABLE_SEC = 1;

const seconds = (s: number) => (s >= 100 ? `${Math.round(s)} s` : `${Math.round(s * 10) / 10} s`);

/** Whether `playsSec` is all of `declaredSec`, give or take rounding. */
export function playsInFull(declaredSec: number, playsSec: number): boolean {
  return declaredSec - playsSec <= Math.max(TOLERANCE_SEC, TOLERANCE_SHARE * declaredSec);
}

/**
 * The warning for a source that plays `playsSec` of the `declaredSec` it
 * declares, or null when it plays in full; throws for a source of which
 * almost nothing plays.
 */
export function truncationWarning(declaredSec: number, playsSec: number): SourceWarning | null {
  if (playsInFull(declaredSec, playsSec)) return null;
  if (playsSec < Math.max(UNPLAYABLE_SEC, UNPLAYABLE_SHARE * declaredSec))
    throw unusableSource(
      `The file looks incomplete: only ${seconds(playsSec)} of the ${seconds(declaredSec)} it declares can be played. Upload the complete file.`,
    );
  return {
    code: "source_truncated",
    message: `The file looks truncated: ${seconds(playsSec)} of the ${seconds(declaredSec)} it declares play.`,
  };
}

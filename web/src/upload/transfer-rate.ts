/**
 * Upload speed and time left. Progress arrives in whole chunks, several in
 * flight at once, so the rate is measured over the last ~10 s of samples
 * rather than between two events, which would swing wildly.
 */

const WINDOW_MS = 10_000;

export class TransferRate {
  private samples: Array<{ t: number; bytes: number }> = [];

  /** A new run (start or resume): bytes already on the server don't count as speed. */
  reset(): void {
    this.samples = [];
  }

  add(bytes: number, t = performance.now()): void {
    this.samples.push({ t, bytes });
    // Keep one sample older than the window so the window is always spanned.
    while (this.samples.length > 2 && t - this.samples[1].t > WINDOW_MS) this.samples.shift();
  }

  /** Bytes per second, or undefined before there is anything to measure. */
  bytesPerSecond(): number | undefined {
    if (this.samples.length < 2) return undefined;
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    const seconds = (last.t - first.t) / 1000;
    if (seconds < 0.25 || last.bytes <= first.bytes) return undefined;
    return (last.bytes - first.bytes) / seconds;
  }

  secondsLeft(totalBytes: number): number | undefined {
    const rate = this.bytesPerSecond();
    const last = this.samples[this.samples.length - 1];
    if (!rate || !last) return undefined;
    return (totalBytes - last.bytes) / rate;
  }
}

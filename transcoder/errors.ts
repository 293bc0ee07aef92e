/**
 * Failures the worker acts on. The worker retries a job only when `retryable`
 * says another attempt could succeed: a file ffmpeg cannot read will never
 * become readable, but a crashed process or a full disk might not recur.
 */
export class TranscodeError extends Error {
  readonly retryable: boolean;

  constructor(message: string, retryable: boolean, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "TranscodeError";
    this.retryable = retryable;
  }
}

/** The source itself is unusable: tell the uploader why, and do not retry. */
export function unusableSource(reason: string): TranscodeError {
  return new TranscodeError(reason, false);
}

export function isAbortError(error: unknown): boolean {
  return error instanceof Error && error.name === "AbortError";
}

export function abortError(signal?: AbortSignal): Error {
  const reason: unknown = signal?.reason;
  if (reason instanceof Error && reason.name === "AbortError") return reason;
  return new DOMException("The job was aborted", "AbortError");
}

/**
 * Failures the worker acts on. The worker retries a job only when `retryable`
 * says another attempt could succeed: a file ffmpeg cannot read will never
 * become readable, but a crashed process or a full disk might not recur.
 * The message is what the uploader reads; `detail` (ffmpeg's own log) goes
 * to the transcoder's log only, since it names paths and memory addresses.
 */
export class TranscodeError extends Error {
  readonly retryable: boolean;
  readonly detail: string | undefined;

  constructor(message: string, retryable: boolean, options?: { cause?: unknown; detail?: string }) {
    super(message, options);
    this.name = "TranscodeError";
    this.retryable = retryable;
    this.detail = options?.detail;
  }
}

/** The source itself is unusable: tell the uploader why, and do not retry. */
export function unusableSource(reason: string, detail?: string): TranscodeError {
  return new TranscodeError(reason, false, { detail });
}

export function isAbortError(error: unknown): boolean {
  return error instanceof Error && error.name === "AbortError";
}

export function abortError(signal?: AbortSignal): Error {
  const reason: unknown = signal?.reason;
  if (reason instanceof Error && reason.name === "AbortError") return reason;
  return new DOMException("The job was aborted", "AbortError");
}

/**
 * What ffmpeg logs, as an error, each time it reads on past one of the
 * worker's bounded source slices (input-formats.ts `-reconnect`): routine,
 * and no reason for anything.
 */
const READ_ON = /Stream ends prematurely at \d+|Will reconnect at \d+/;

/** ffmpeg's log without its routine read-on lines. */
export function withoutReadOn(stderr: string): string {
  return stderr
    .split("\n")
    .filter((line) => !READ_ON.test(line))
    .join("\n");
}

/**
 * ffmpeg's complaints, one per line, as a person may read them: without the
 * `[demuxer @ 0x…]` prefix, memory addresses, or our paths (which name the
 * job's temp directory, not anything the uploader knows).
 */
export function complaints(stderr: string, paths: string[]): string[] {
  return withoutReadOn(stderr)
    .split("\n")
    .map((line) => {
      let text = line.replace(/^\[[^\]]+ @ 0x[0-9a-f]+\]\s*/, "");
      for (const path of paths) text = text.split(path).join("the file");
      return text
        .replace(/^the file:\s*/, "")
        .replace(/0x[0-9a-f]{6,}/gi, "")
        .replace(/(?:\/[\w.-]+){2,}/g, "the file")
        .trim();
    })
    .filter((l) => l && !/^[a-z_]+=\S*$/.test(l));
}

/** What the uploader reads for ffmpeg complaints we recognise: plain words instead of ffmpeg's. */
const PLAIN_REASONS: Array<[RegExp, string]> = [
  [
    /moov atom not found/,
    "The file looks incomplete: it ends before its index, as when a recording or an upload is cut off. Upload the complete file.",
  ],
  [
    /partial file|Truncat|Packet corrupt|corrupt decoded frame|error while decoding/i,
    "The file looks damaged or incomplete: part of it cannot be read.",
  ],
  [/Decoder \(codec [^)]*\) not found|Unsupported codec|unknown codec/i, "The file uses a codec we cannot decode."],
];

/** A plain reason for what ffmpeg said, else its first complaint after `fallbackPrefix`. */
export function plainReason(stderr: string, paths: string[], fallbackPrefix: string): string {
  const lines = complaints(stderr, paths);
  for (const [pattern, reason] of PLAIN_REASONS) if (lines.some((l) => pattern.test(l))) return reason;
  return `${fallbackPrefix}: ${lines[0] ?? "unknown error"}`.replace(/[.:]?$/, ".").replace(/\.\.$/, ".");
}

/**
 * Failures of the machine rather than of the file: another attempt, maybe
 * elsewhere, may well succeed, so these are retried.
 */
const INFRASTRUCTURE = [
  /killed with signal/i,
  /No space left on device/i,
  /Cannot allocate memory|Out of memory/i,
  /Resource temporarily unavailable|Too many open files/i,
  /Input\/output error|Broken pipe|Connection (?:reset|refused|timed out)/i,
  // The worker, read over HTTP, failing (not the file).
  /Server returned 5/i,
  /spawn .*(?:ENOENT|EACCES|EAGAIN)/i,
];

/**
 * Classifies a failed ffmpeg run. An ffmpeg that exited by itself on an input
 * it could not handle fails the same way every time: the source fails at once
 * with a reason, no retry. Only a killed process or a starved machine is retried.
 */
export function ffmpegFailure(what: string, message: string, log: string, paths: string[]): TranscodeError {
  const detail = `${message}\n${log}`.trim();
  const [said, stderr] = [withoutReadOn(message), withoutReadOn(log)];
  if (INFRASTRUCTURE.some((p) => p.test(said) || p.test(stderr)))
    return new TranscodeError(`Transcoding was interrupted while ${what}; it will be retried.`, true, { detail });
  return unusableSource(plainReason(stderr, paths, `The video could not be processed while ${what}`), detail);
}

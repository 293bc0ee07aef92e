/**
 * Streams one chunk body into R2 while hashing it. The body is tee'd into
 * two native pipes, `crypto.DigestStream` and a `FixedLengthStream` into the
 * R2 part: no JavaScript touches the bytes, which measured ~2x faster than a
 * JS TransformStream tap in workerd, and neither branch can hold more than
 * the one chunk in flight, so memory does not grow with the file. The
 * DigestStream also counts what it hashed, so the byte count reported is
 * what actually arrived, not what was expected.
 */
import { toHex } from "../crypto/encoding.ts";

/** The body was longer or shorter than the chunk must be (or the client went away mid-body). */
export class WrongLengthError extends Error {
  readonly expected: number;
  constructor(expected: number) {
    super(`the body did not carry exactly ${expected} bytes`);
    this.expected = expected;
  }
}

export type Hashed<T> = { result: T; sha256: string; bytes: number };

/**
 * Hashes `body` while `sink` consumes it. The stream handed to the sink has
 * a known length (R2 needs one) and errors if the body is longer or shorter
 * than `expectedBytes`.
 */
export async function hashWhileStreaming<T>(
  body: ReadableStream<Uint8Array>,
  expectedBytes: number,
  sink: (stream: ReadableStream<Uint8Array>) => Promise<T>,
): Promise<Hashed<T>> {
  const [forDigest, forSink] = body.tee();
  const hashing = sha256Counted(forDigest, expectedBytes);
  const storing = sink(forSink.pipeThrough(new FixedLengthStream(expectedBytes)));
  // The digest side tells a bad body (wrong length, dropped connection) from a storage failure.
  const [hashed, stored] = await Promise.allSettled([hashing, storing]);
  if (hashed.status === "rejected") throw hashed.reason;
  if (stored.status === "rejected") {
    // Counted short, the body was at fault, whichever pipe noticed first.
    if (hashed.value.bytes !== expectedBytes) throw new WrongLengthError(expectedBytes);
    throw stored.reason;
  }
  return { result: stored.value, ...hashed.value };
}

/** Hashes a body without storing it: used to re-verify a chunk already stored. */
export async function hashOnly(body: ReadableStream<Uint8Array>, expectedBytes: number): Promise<Hashed<void>> {
  const hashed = await sha256Counted(body, expectedBytes);
  if (hashed.bytes !== expectedBytes) throw new WrongLengthError(expectedBytes);
  return { result: undefined, ...hashed };
}

async function sha256Counted(
  body: ReadableStream<Uint8Array>,
  expectedBytes: number,
): Promise<{ sha256: string; bytes: number }> {
  const digest = new crypto.DigestStream("SHA-256");
  try {
    // The FixedLengthStream stops reading a body as soon as it runs over.
    await body.pipeThrough(new FixedLengthStream(expectedBytes)).pipeTo(digest);
  } catch {
    // The aborted DigestStream rejects its digest too; nobody will read it.
    digest.digest.catch(() => {});
    throw new WrongLengthError(expectedBytes);
  }
  return { sha256: toHex(new Uint8Array(await digest.digest)), bytes: Number(digest.bytesWritten) };
}

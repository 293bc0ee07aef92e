/**
 * Streams one chunk body into R2 while hashing it, in a single pass with
 * backpressure: bytes are pulled only as fast as R2 takes them, so a Worker's
 * memory stays flat whatever the chunk size or the number of chunks in flight.
 */
import { toHex } from "../http/auth.ts";

export class WrongLengthError extends Error {
  constructor(readonly expected: number, readonly received: number) {
    super(`expected ${expected} bytes, received ${received}${received > expected ? " or more" : ""}`);
  }
}

export type Hashed<T> = { result: T; sha256: string; bytes: number };

/**
 * Pipes `body` through a SHA-256 tap into `sink`. The stream handed to the
 * sink has a known length (R2 needs one) and errors if the body is longer or
 * shorter than `expectedBytes`.
 */
export async function hashWhileStreaming<T>(
  body: ReadableStream<Uint8Array>,
  expectedBytes: number,
  sink: (stream: ReadableStream<Uint8Array>) => Promise<T>,
): Promise<Hashed<T>> {
  const digest = new crypto.DigestStream("SHA-256");
  const digestWriter = digest.getWriter();
  let bytes = 0;
  const tap = new TransformStream<Uint8Array, Uint8Array>({
    async transform(chunk, controller) {
      bytes += chunk.byteLength;
      if (bytes > expectedBytes) throw new WrongLengthError(expectedBytes, bytes);
      await digestWriter.write(chunk);
      controller.enqueue(chunk);
    },
    async flush() {
      if (bytes !== expectedBytes) throw new WrongLengthError(expectedBytes, bytes);
      await digestWriter.close();
    },
  });
  const sized = body.pipeThrough(tap).pipeThrough(new FixedLengthStream(expectedBytes));
  let result: T;
  try {
    result = await sink(sized);
  } catch (err) {
    // The tap's own error explains a length problem better than the sink's.
    if (bytes !== expectedBytes) throw new WrongLengthError(expectedBytes, bytes);
    throw err;
  }
  return { result, sha256: toHex(new Uint8Array(await digest.digest)), bytes };
}

/** Hashes a body without storing it: used to re-verify a chunk already stored. */
export function hashOnly(body: ReadableStream<Uint8Array>, expectedBytes: number): Promise<Hashed<void>> {
  return hashWhileStreaming(body, expectedBytes, (stream) => stream.pipeTo(new WritableStream()));
}

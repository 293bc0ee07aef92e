/**
 * A run of consecutive chunks carried by one body: a tus `PATCH` that sends
 * several chunks at once, or an import's download. The body is cut at chunk
 * boundaries (`ByteCutter`) and each piece goes the way of a chunk of our own
 * API (part-stream.ts): leased from the video's object, streamed into its R2
 * part while hashed with SHA-256, then recorded. A chunk already recorded is
 * only hashed and compared, never rewritten.
 *
 * Cutting is the one place JavaScript touches the bytes; it holds at most the
 * piece the body last delivered, so memory does not grow with the run.
 */
import { readConfig } from "../config.ts";
import { apiError, unwrap } from "../http/errors.ts";
import { videoObject } from "../video-object/stub.ts";
import { CHUNK_LEASE_RENEW_MS, type UploadAccess } from "../video-object/upload.ts";
import { type ChunkPlan, expectedChunkBytes } from "./chunk-plan.ts";
import { type Hashed, storeChunk, verifyChunk } from "./part-stream.ts";

/**
 * Reads a body as consecutive streams of given lengths. `onBytes` sees every
 * byte once, in order, before it is handed on (a checksum of the whole body).
 */
export class ByteCutter {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly onBytes: ((piece: Uint8Array) => Promise<void>) | undefined;
  /** Bytes read past the end of the last stream handed out. */
  private leftover: Uint8Array | undefined;

  constructor(body: ReadableStream<Uint8Array>, onBytes?: (piece: Uint8Array) => Promise<void>) {
    this.reader = body.getReader();
    this.onBytes = onBytes;
  }

  /** Whether the body has no byte left. */
  async ended(): Promise<boolean> {
    if (this.leftover) return false;
    this.leftover = await this.read();
    return this.leftover === undefined;
  }

  /** The body's next `bytes` as a stream, which ends early if the body does. */
  next(bytes: number): ReadableStream<Uint8Array> {
    let remaining = bytes;
    return new ReadableStream<Uint8Array>(
      {
        pull: async (controller) => {
          let piece = this.leftover ?? (remaining > 0 ? await this.read() : undefined);
          this.leftover = undefined;
          if (!piece) {
            controller.close();
            return;
          }
          if (piece.byteLength > remaining) {
            // A copy: the piece handed on may be transferred by the pipe that takes it.
            this.leftover = piece.slice(remaining);
            piece = piece.subarray(0, remaining);
          }
          remaining -= piece.byteLength;
          controller.enqueue(piece);
          if (remaining === 0) controller.close();
        },
        cancel: (reason) => this.reader.cancel(reason),
      },
      { highWaterMark: 0 },
    );
  }

  /** Stops reading the body. */
  cancel(reason?: unknown): Promise<void> {
    return this.reader.cancel(reason);
  }

  private async read(): Promise<Uint8Array | undefined> {
    for (;;) {
      const { done, value } = await this.reader.read();
      if (done) return undefined;
      if (value.byteLength === 0) continue;
      await this.onBytes?.(value);
      return value;
    }
  }
}

export type ChunkRun = {
  env: Env;
  videoId: string;
  access: UploadAccess;
  plan: ChunkPlan;
  /** The first chunk the body carries (1-based). */
  first: number;
  /**
   * Called once the body has ended, before any chunk is recorded: false
   * keeps nothing of the run (a tus checksum that does not match). Without
   * it, each chunk is recorded as soon as it is stored, so a dropped
   * connection keeps every whole chunk that arrived.
   */
  accept?: () => Promise<boolean>;
};

/** A chunk stored but not yet recorded: its lease is held until the run's verdict. */
type Held = { n: number; leaseId: string; stored: Hashed<R2UploadedPart> };

/**
 * Stores the chunks `body` carries from `run.first` on, up to the end of the
 * body (which must fall on a chunk boundary or at the end of the file).
 * Returns how many chunks it carried. Throws an `ApiError` for a body that
 * ends inside a chunk or runs past the file, for a chunk that conflicts with
 * the one already stored, and `checksum_mismatch` when `accept` refuses.
 */
export async function storeChunkRun(body: ByteCutter, run: ChunkRun): Promise<number> {
  const video = videoObject(run.env, run.videoId);
  const config = readConfig(run.env);
  const held: Held[] = [];
  let current: { n: number; leaseId: string } | undefined;
  // The leases of chunks held for the verdict are renewed with the one being stored.
  const renew = () => {
    const leases = current ? [...held, current] : held;
    void video.renewLeases(leases.map(({ n, leaseId }) => ({ n, leaseId }))).catch(() => {});
  };
  const watch = { stallMs: config.chunkStallTimeoutMs, renewEveryMs: CHUNK_LEASE_RENEW_MS, onProgress: renew };
  let n = run.first;
  try {
    for (; !(await body.ended()); n++) {
      if (n > run.plan.totalChunks) {
        throw apiError("wrong_length", `The body runs past the end of the upload (${run.plan.size} bytes).`);
      }
      const expectedBytes = expectedChunkBytes(run.plan, n);
      const rules = { n, expectedBytes, sha256: null, declaredBytes: null };
      const grant = unwrap(await video.beginChunk(run.access, n));
      if (grant.mode === "verify") {
        const { sha256 } = await verifyChunk(body.next(expectedBytes), rules, watch);
        if (sha256 !== grant.sha256) {
          throw apiError("chunk_conflict", `Chunk ${n} is already stored with different content.`, {
            stored: grant.sha256,
          });
        }
        continue;
      }
      current = { n, leaseId: grant.leaseId };
      const part = run.env.VIDEOS.resumeMultipartUpload(grant.r2Key, grant.r2UploadId);
      const stored = await storeChunk(body.next(expectedBytes), rules, (s) => part.uploadPart(n, s), watch);
      current = undefined;
      held.push({ n, leaseId: grant.leaseId, stored });
      if (!run.accept) await record(video, held.pop()!);
    }
  } catch (err) {
    await releaseAll(video, current ? [...held, current] : held);
    throw err;
  }
  if (run.accept && !(await run.accept())) {
    await releaseAll(video, held);
    throw apiError("checksum_mismatch", "The body does not match its Upload-Checksum; nothing of it was kept.");
  }
  for (const chunk of held) await record(video, chunk);
  return n - run.first;
}

type Video = ReturnType<typeof videoObject>;

async function record(video: Video, { n, leaseId, stored }: Held): Promise<void> {
  unwrap(await video.recordChunk(n, { leaseId, bytes: stored.bytes, sha256: stored.sha256, etag: stored.result.etag }));
}

async function releaseAll(video: Video, leases: { n: number; leaseId: string }[]): Promise<void> {
  await Promise.all(leases.map(({ n, leaseId }) => video.releaseChunk(n, leaseId).catch(() => {})));
}

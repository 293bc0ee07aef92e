/**
 * Chooses how a file of a given size is cut into chunks, each one R2
 * multipart part. R2 wants every part but the last to be the same size and at
 * least 5 MiB, and at most 10,000 parts; a Worker takes bodies up to ~100 MB.
 */
import { MAX_CHUNK_BYTES, R2_MAX_PARTS, R2_MIN_PART_BYTES } from "../config.ts";

export type ChunkPlan = { size: number; chunkSize: number; totalChunks: number };

export function planChunks(size: number, preferred: number): ChunkPlan {
  const floor = Math.max(R2_MIN_PART_BYTES, Math.ceil(size / R2_MAX_PARTS));
  const chunkSize = Math.min(MAX_CHUNK_BYTES, Math.max(floor, Math.floor(preferred)));
  return { size, chunkSize, totalChunks: Math.max(1, Math.ceil(size / chunkSize)) };
}

/** Bytes chunk `n` (1-based) must carry: `chunkSize`, or the remainder for the last. */
export function expectedChunkBytes(plan: ChunkPlan, n: number): number {
  return n < plan.totalChunks ? plan.chunkSize : plan.size - plan.chunkSize * (plan.totalChunks - 1);
}

/** Bytes stored from the start of the file: the chunks from the first on, up to the first missing one. */
export function contiguousBytes(plan: ChunkPlan, received: readonly number[]): number {
  let n = 0;
  for (const r of received) {
    if (r !== n + 1) break;
    n = r;
  }
  return Math.min(plan.size, n * plan.chunkSize);
}

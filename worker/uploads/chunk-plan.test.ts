import { describe, expect, it } from "vitest";
import { MAX_CHUNK_BYTES, R2_MAX_PARTS, R2_MIN_PART_BYTES } from "../config.ts";
import { expectedChunkBytes, planChunks } from "./chunk-plan.ts";

const MiB = 1024 * 1024;

describe("planChunks", () => {
  it.each([1, 5 * MiB, 16 * MiB + 1, 1024 * MiB, 50 * 1024 * MiB, MAX_CHUNK_BYTES * R2_MAX_PARTS])(
    "keeps R2's rules for a %d-byte file",
    (size) => {
      for (const preferred of [1, 5 * MiB, 16 * MiB, 200 * MiB]) {
        const plan = planChunks(size, preferred);
        expect(plan.totalChunks).toBeLessThanOrEqual(R2_MAX_PARTS);
        expect(plan.chunkSize).toBeGreaterThanOrEqual(R2_MIN_PART_BYTES);
        expect(plan.chunkSize).toBeLessThanOrEqual(MAX_CHUNK_BYTES);
        const last = expectedChunkBytes(plan, plan.totalChunks);
        expect(last).toBeGreaterThan(0);
        expect(last).toBeLessThanOrEqual(plan.chunkSize);
        expect(plan.chunkSize * (plan.totalChunks - 1) + last).toBe(size);
      }
    },
  );
});

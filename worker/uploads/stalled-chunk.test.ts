// A chunk request holds its chunk's lease while its bytes arrive. A client
// that sends a few bytes and stalls must not hold the chunk for minutes: its
// lease is renewed only when bytes arrived, and after CHUNK_STALL_TIMEOUT_SECONDS
// without a byte the request is ended with 408 and the chunk is free again.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { bytes, createUpload, json, putChunk } from "../testing/helpers.ts";
import { holdChunk, leaseOf } from "../testing/held-chunk.ts";
import { CHUNK_LEASE_RENEW_MS } from "../video-object/upload.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("a chunk request whose client stalls", () => {
  it("is ended with 408 request_timeout, and its chunk is free for the next request", async () => {
    const body = bytes(64 * 1024, 7);
    const up = await createUpload({ size: body.length });
    const stallingEnv = { ...env, CHUNK_STALL_TIMEOUT_SECONDS: "1" } as unknown as Env;
    const held = await holdChunk(up, 1, body, 10, stallingEnv);

    const answer = await Promise.race([held.response, sleep(8000).then(() => "still waiting" as const)]);
    expect(answer).not.toBe("still waiting");
    const res = answer as Response;
    expect(res.status).toBe(408);
    expect(await json(res)).toMatchObject({ error: { code: "request_timeout", message: expect.any(String) } });
    expect(await leaseOf(up.videoId, 1)).toBeUndefined();

    expect((await putChunk(up, 1, body)).status).toBe(200);
  });

  it("renews the lease only when bytes arrived since the last renewal", async () => {
    const body = bytes(64 * 1024, 8);
    const up = await createUpload({ size: body.length });
    const held = await holdChunk(up, 1, body, 10);
    const granted = await leaseOf(up.videoId, 1);
    // The first look finds the first 10 bytes and renews once.
    await expect
      .poll(async () => (await leaseOf(up.videoId, 1))?.startedAt, { timeout: CHUNK_LEASE_RENEW_MS + 3000 })
      .toBeGreaterThan(granted!.startedAt);
    const taken = await leaseOf(up.videoId, 1);

    // Silent for longer than the renewal period: the lease is left to lapse.
    await sleep(CHUNK_LEASE_RENEW_MS + 1500);
    expect(await leaseOf(up.videoId, 1)).toEqual(taken);

    // Bytes arrive: the next look renews it.
    held.send(1000);
    await expect
      .poll(async () => (await leaseOf(up.videoId, 1))?.startedAt, { timeout: CHUNK_LEASE_RENEW_MS + 3000 })
      .toBeGreaterThan(taken!.startedAt);

    held.finish();
    expect((await held.response).status).toBe(200);
  });
});

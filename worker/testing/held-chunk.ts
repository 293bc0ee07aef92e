/**
 * Chunk requests whose bodies the test controls: a body can be held open
 * mid-stream, so a request is known to hold its chunk's lease while the test
 * acts, instead of hoping two requests happen to overlap.
 */
import { exports } from "cloudflare:workers";
import { app } from "../app.ts";
import { expect } from "vitest";
import { formatContentDigest } from "../uploads/content-digest.ts";
import { BASE, sha256, type Created } from "./helpers.ts";
import { inVideoObject } from "./video-object.ts";

export type HeldChunk = {
  /** The response, once the body is finished. */
  response: Promise<Response>;
  /** Sends the rest of the body and ends it. */
  finish(): void;
  /** Sends the next `bytes` of the body, keeping it open. */
  send(bytes: number): void;
};

/**
 * Starts `PUT /chunks/n` with a streamed body (no Content-Length) that sends
 * its first `held` bytes and waits for `finish()`. Resolves once the upload's
 * Durable Object has granted the request a lease on chunk `n`. With `config`,
 * the Worker runs with that env (overridden vars) instead of the test's own.
 */
export async function holdChunk(
  up: Created,
  n: number,
  body: Uint8Array,
  held = 1024,
  config?: Env,
): Promise<HeldChunk> {
  const before = await leaseOf(up.videoId, n);
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
      c.enqueue(body.slice(0, held));
    },
  });
  let sent = held;
  const request = new Request(`${BASE}/api/uploads/${up.videoId}/chunks/${n}`, {
    method: "PUT",
    headers: { authorization: `Bearer ${up.uploadToken}`, "content-digest": formatContentDigest(await sha256(body)) },
    body: stream,
  });
  const response = config ? Promise.resolve(app.fetch(request, config, testContext)) : exports.default.fetch(request);
  await expect
    .poll(async () => (await leaseOf(up.videoId, n))?.leaseId, { timeout: 10_000, interval: 5 })
    .not.toBe(before?.leaseId);
  return {
    response,
    finish() {
      controller.enqueue(body.slice(sent));
      controller.close();
    },
    send(bytes) {
      controller.enqueue(body.slice(sent, sent + bytes));
      sent += bytes;
    },
  };
}

const testContext = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext;

/** Chunk `n`'s lease as the Durable Object stores it. */
export function leaseOf(videoId: string, n: number): Promise<{ leaseId: string; startedAt: number } | undefined> {
  return inVideoObject(
    videoId,
    (sql) =>
      sql
        .exec<{ lease_id: string; started_at: number }>("SELECT lease_id, started_at FROM leases WHERE n = ?", n)
        .toArray()
        .map((r) => ({ leaseId: r.lease_id, startedAt: r.started_at }))[0],
  );
}

/** Moves chunk `n`'s lease back in time, as if its holder had gone silent `ms` ago. */
export function ageLease(videoId: string, n: number, ms: number): Promise<void> {
  return inVideoObject(videoId, (sql) => {
    sql.exec("UPDATE leases SET started_at = ? WHERE n = ?", Date.now() - ms, n);
  });
}

// Webhook subscriptions (administrator) and their deliveries: each event a
// subscription wants reaches its URL signed by the Standard Webhooks
// specification, in order per video, retried with backoff, every try
// recorded; a receiver that fails or hangs delays only its own subscription.
// The receivers are the transcoder stand-in's `/hooks/:name`
// (test/transcoder-stand-in.ts), scripted per test; the events queue and each
// subscription's sender object are the real ones. Signatures are checked
// here by hand, with WebCrypto; the e2e test checks them with the
// `standardwebhooks` package.
import {
  createExecutionContext,
  createMessageBatch,
  env,
  getQueueResult,
  runDurableObjectAlarm,
  runInDurableObject,
} from "cloudflare:test";
import { afterEach, describe, expect, inject, it } from "vitest";
import { expectError } from "../../test/expect-error.ts";
import { app } from "../app.ts";
import { readConfig } from "../config.ts";
import { EventSchema, type VideoEvent, WebhookCreatedSchema, WebhookSchema } from "../contracts/events.ts";
import { api, createUpload, json, type Created } from "../testing/helpers.ts";
import { event, metadata, processingVideo, publishPlayable, until } from "../testing/processing.ts";
import { consumeEvents } from "./fan-out.ts";
import { GAP_WAIT_MS, type WebhookSender } from "./webhook-sender.ts";

const ADMIN_TOKEN = "admin-token-for-webhooks-0123";
const withAdmin = { ...env, ADMIN_TOKEN } as Env;
const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext;
const STAND_IN = inject("transcoderUrl");

const asAdmin = (path: string, init: RequestInit = {}, token: string | null = ADMIN_TOKEN) =>
  app.fetch(
    new Request(`http://reelay.test${path}`, {
      ...init,
      headers: {
        ...(token === null ? {} : { authorization: `Bearer ${token}` }),
        ...(init.body ? { "content-type": "application/json" } : {}),
        ...init.headers,
      },
    }),
    withAdmin,
    ctx,
  );

const post = (path: string, body: unknown) => asAdmin(path, { method: "POST", body: JSON.stringify(body) });
const patch = (path: string, body: unknown) => asAdmin(path, { method: "PATCH", body: JSON.stringify(body) });

/** The stand-in's receiver script (test/transcoder-stand-in.ts `HookScript`). */
type HookScript = { statuses?: number[]; delayMs?: number; delays?: number[]; hang?: boolean };
type HookDelivery = { headers: Record<string, string>; body: string; status: number | null; at: number };

/** A receiver of its own on the stand-in, answering as `script` says; its URL. */
async function receiver(script: HookScript = {}): Promise<{ name: string; url: string }> {
  const name = crypto.randomUUID();
  const res = await fetch(`${STAND_IN}/stand-in/hooks/${name}`, { method: "PUT", body: JSON.stringify(script) });
  expect(res.status).toBe(204);
  return { name, url: `${STAND_IN}/hooks/${name}` };
}

/** What the receiver got, oldest first; only what concerns `videoId` when given. */
async function received(hook: { name: string }, videoId?: string): Promise<(HookDelivery & { event: VideoEvent })[]> {
  const res = await fetch(`${STAND_IN}/stand-in/hooks/${hook.name}`);
  const all = ((await res.json()) as HookDelivery[]).map((d) => ({ ...d, event: JSON.parse(d.body) as VideoEvent }));
  return videoId === undefined ? all : all.filter((d) => d.event.videoId === videoId);
}

async function untilReceived(hook: { name: string }, videoId: string | undefined, count: number, timeoutMs = 15_000) {
  await until(`${count} deliveries arrive`, async () => (await received(hook, videoId)).length >= count, timeoutMs);
  return received(hook, videoId);
}

type Subscription = ReturnType<typeof WebhookCreatedSchema.parse>;
const created: string[] = [];

async function subscribe(url: string, fields: Record<string, unknown> = {}): Promise<Subscription> {
  const res = await post("/api/webhooks", { url, ...fields });
  expect(res.status, await res.clone().text()).toBe(201);
  const sub = WebhookCreatedSchema.parse(await res.json());
  created.push(sub.id);
  return sub;
}

// A subscription outliving its test would be handed every later test's events.
afterEach(async () => {
  for (const id of created.splice(0)) await asAdmin(`/api/webhooks/${id}`, { method: "DELETE" });
});

type Delivery = {
  eventId: string;
  eventType: string;
  attempt: number;
  statusCode: number | null;
  error: string | null;
  latencyMs: number;
};

async function deliveries(id: string): Promise<Delivery[]> {
  const res = await asAdmin(`/api/webhooks/${id}/deliveries`);
  expect(res.status).toBe(200);
  return (await json<{ items: Delivery[] }>(res)).items;
}

const fromBase64 = (text: string) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

/**
 * Verifies a delivery as the Standard Webhooks specification says a
 * consumer does: HMAC-SHA256, keyed by the secret's bytes, of
 * `<webhook-id>.<webhook-timestamp>.<body>`, against any `v1,` signature
 * in the header; the timestamp within five minutes of now.
 */
async function verified(secret: string, d: HookDelivery): Promise<boolean> {
  const id = d.headers["webhook-id"];
  const timestamp = d.headers["webhook-timestamp"];
  const signatures = d.headers["webhook-signature"];
  if (!id || !timestamp || !signatures || !secret.startsWith("whsec_")) return false;
  if (Math.abs(Number(timestamp) - Date.now() / 1000) > 300) return false;
  const key = await crypto.subtle.importKey(
    "raw",
    fromBase64(secret.slice("whsec_".length)),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["verify"],
  );
  const signed = new TextEncoder().encode(`${id}.${timestamp}.${d.body}`);
  for (const signature of signatures.split(" ")) {
    const [version, mac] = signature.split(",");
    if (version === "v1" && mac && (await crypto.subtle.verify("HMAC", key, fromBase64(mac), signed))) return true;
  }
  return false;
}

const sender = (id: string) => env.WEBHOOK_SENDERS.getByName(id);

type Pending = { event_id: string; video_key: string; attempts: number; first_try_at: number | null; next_at: number };

const pending = (id: string) =>
  runInDurableObject(sender(id), (_o: WebhookSender, state) =>
    state.storage.sql.exec<Pending>("SELECT * FROM pending ORDER BY seq").toArray(),
  );

/** Makes the events waiting for a retry due now (`changes` first) and runs the sender's alarm. */
async function retryNow(id: string, changes = ""): Promise<void> {
  await runInDurableObject(sender(id), (_o: WebhookSender, state) => {
    state.storage.sql.exec(`UPDATE pending SET next_at = ?${changes} WHERE attempts > 0`, Date.now());
    return state.storage.setAlarm(Date.now());
  });
  await runDurableObjectAlarm(sender(id));
}

const patchVideo = (up: Created, body: Record<string, unknown>) =>
  api(`/api/videos/${up.videoId}`, {
    method: "PATCH",
    headers: { authorization: `Bearer ${up.uploadToken}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });

/** Each video's last sequence given by `anEvent`. */
const sequences = new Map<string, number>();

/** An event as a video's object would emit it (numbered after its video's last), for tests that hand events over themselves. */
const anEvent = (type: VideoEvent["type"], videoId: string): VideoEvent => {
  const sequence = (sequences.get(videoId) ?? 0) + 1;
  sequences.set(videoId, sequence);
  return {
    id: `evt_${crypto.randomUUID().replaceAll("-", "")}`,
    type,
    timestamp: new Date().toISOString(),
    videoId,
    sequence,
    data: {},
    video: null,
  };
};

const eventsOf = async (videoId: string) =>
  (await json<{ items: VideoEvent[] }>(await asAdmin(`/api/events?videoId=${videoId}&limit=1000`))).items;

describe("/api/webhooks", () => {
  it("creates a subscription whose secret is shown once, lists, edits and deletes it", async () => {
    const hook = await receiver();
    const res = await post("/api/webhooks", {
      url: hook.url,
      eventTypes: ["video.ready", "video.failed"],
      description: "Our CMS",
    });
    expect(res.status).toBe(201);
    const sub = WebhookCreatedSchema.parse(await res.json());
    created.push(sub.id);
    expect(res.headers.get("location")).toBe(`/api/webhooks/${sub.id}`);
    expect(sub).toMatchObject({
      url: hook.url,
      eventTypes: ["video.ready", "video.failed"],
      description: "Our CMS",
      enabled: true,
      disabledReason: null,
    });
    expect(sub.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(fromBase64(sub.secret.slice(6))).toHaveLength(32);
    expect(Date.parse(sub.createdAt)).toBeGreaterThan(Date.now() - 60_000);

    // Never again: not in the list, not on its own.
    const { secret, ...shown } = sub;
    const one = await json(await asAdmin(`/api/webhooks/${sub.id}`));
    expect(one).toEqual(shown);
    expect(WebhookSchema.strict().parse(one)).toEqual(shown);
    const list = await json<{ items: unknown[] }>(await asAdmin("/api/webhooks"));
    expect(list.items).toContainEqual(shown);
    expect(JSON.stringify(list)).not.toContain(secret);

    const other = await receiver();
    const edited = await patch(`/api/webhooks/${sub.id}`, { url: other.url, eventTypes: null, description: "" });
    expect(edited.status).toBe(200);
    expect(await edited.json()).toEqual({ ...shown, url: other.url, eventTypes: null, description: "" });
    const disabled = await json(await patch(`/api/webhooks/${sub.id}`, { enabled: false }));
    expect(disabled).toMatchObject({ enabled: false, disabledReason: null });
    expect(await json(await asAdmin(`/api/webhooks/${sub.id}`))).toEqual(disabled);

    expect((await asAdmin(`/api/webhooks/${sub.id}`, { method: "DELETE" })).status).toBe(204);
    await expectError(asAdmin(`/api/webhooks/${sub.id}`), 404, "not_found");
    await expectError(asAdmin(`/api/webhooks/${sub.id}`, { method: "DELETE" }), 404, "not_found");
    await expectError(patch(`/api/webhooks/${sub.id}`, { enabled: true }), 404, "not_found");
    await expectError(asAdmin(`/api/webhooks/${sub.id}/deliveries`), 404, "not_found");
    await expectError(post(`/api/webhooks/${sub.id}/test`, {}), 404, "not_found");
    const after = await json<{ items: { id: string }[] }>(await asAdmin("/api/webhooks"));
    expect(after.items.map((w) => w.id)).not.toContain(sub.id);
  });

  it("refuses what is not a subscription, with 400 invalid_request, and creates nothing", async () => {
    const before = (await json<{ items: unknown[] }>(await asAdmin("/api/webhooks"))).items.length;
    for (const body of [
      {},
      { url: "not a url" },
      { url: "ftp://example.com/hook" },
      { url: "javascript:alert(1)" },
      { url: `https://example.com/${"a".repeat(2100)}` },
      { url: "https://example.com/hook", eventTypes: [] },
      { url: "https://example.com/hook", eventTypes: ["video.exploded"] },
      { url: "https://example.com/hook", eventTypes: "video.ready" },
      { url: "https://example.com/hook", description: "x".repeat(501) },
    ])
      await expectError(post("/api/webhooks", body), 400, "invalid_request");
    await expectError(
      asAdmin("/api/webhooks", { method: "POST", body: "{not json", headers: { "content-type": "application/json" } }),
      400,
      "invalid_json",
    );
    expect((await json<{ items: unknown[] }>(await asAdmin("/api/webhooks"))).items).toHaveLength(before);

    const sub = await subscribe((await receiver()).url);
    await expectError(patch(`/api/webhooks/${sub.id}`, {}), 400, "invalid_request");
    await expectError(patch(`/api/webhooks/${sub.id}`, { url: "ftp://example.com" }), 400, "invalid_request");
    await expectError(patch(`/api/webhooks/${sub.id}`, { enabled: "yes" }), 400, "invalid_request");
    await expectError(asAdmin(`/api/webhooks/${sub.id}/deliveries?limit=0`), 400, "invalid_request");
    await expectError(asAdmin(`/api/webhooks/${sub.id}/deliveries?before=x`), 400, "invalid_cursor");
    for (const id of ["nope", "wh_123", `wh_${"0".repeat(32)}`])
      await expectError(asAdmin(`/api/webhooks/${id}`), 404, "not_found");
  });

  it("refuses anyone but the administrator", async () => {
    const sub = await subscribe((await receiver()).url);
    const up = await createUpload({ size: 10 });
    const calls: [string, string][] = [
      ["GET", "/api/webhooks"],
      ["POST", "/api/webhooks"],
      ["GET", `/api/webhooks/${sub.id}`],
      ["PATCH", `/api/webhooks/${sub.id}`],
      ["DELETE", `/api/webhooks/${sub.id}`],
      ["POST", `/api/webhooks/${sub.id}/test`],
      ["GET", `/api/webhooks/${sub.id}/deliveries`],
    ];
    for (const [method, path] of calls) {
      await expectError(asAdmin(path, { method }, null), 401, "missing_token");
      await expectError(asAdmin(path, { method }, up.uploadToken), 401, "invalid_token");
    }
    // Still there.
    expect((await asAdmin(`/api/webhooks/${sub.id}`)).status).toBe(200);
  });

  it("sends a signed webhook.test on request, and lists the try among the deliveries", async () => {
    const hook = await receiver();
    const sub = await subscribe(hook.url, { eventTypes: ["video.ready"] });
    const res = await post(`/api/webhooks/${sub.id}/test`, {});
    expect(res.status).toBe(202);
    const { eventId } = await json<{ eventId: string }>(res);
    const [got, ...more] = await untilReceived(hook, undefined, 1);
    expect(more).toEqual([]);
    expect(await verified(sub.secret, got!)).toBe(true);
    // Signed with another secret, or with the body changed, it would not verify.
    expect(await verified((await subscribe(hook.url)).secret, got!)).toBe(false);
    expect(await verified(sub.secret, { ...got!, body: got!.body.replace("webhook.test", "video.ready") })).toBe(false);
    expect(got!.headers).toMatchObject({ "content-type": "application/json", "webhook-id": eventId });
    expect(EventSchema.parse(got!.event)).toMatchObject({
      id: eventId,
      type: "webhook.test",
      videoId: null,
      video: null,
      data: { webhookId: sub.id },
    });
    await until("the try is recorded", async () => (await deliveries(sub.id)).length === 1);
    expect(await deliveries(sub.id)).toEqual([
      {
        eventId,
        eventType: "webhook.test",
        attempt: 1,
        statusCode: 200,
        latencyMs: expect.any(Number),
        error: null,
        attemptedAt: expect.any(String),
      },
    ]);

    expect((await patch(`/api/webhooks/${sub.id}`, { enabled: false })).status).toBe(200);
    await expectError(post(`/api/webhooks/${sub.id}/test`, {}), 409, "webhook_disabled");
  });

  it("pages the deliveries newest first", async () => {
    const hook = await receiver();
    const sub = await subscribe(hook.url);
    for (const _ of [1, 2, 3]) expect((await post(`/api/webhooks/${sub.id}/test`, {})).status).toBe(202);
    await until("three tries are recorded", async () => (await deliveries(sub.id)).length === 3);
    const all = await deliveries(sub.id);
    const first = await json(await asAdmin(`/api/webhooks/${sub.id}/deliveries?limit=2`));
    expect(first.items).toEqual(all.slice(0, 2));
    const rest = await json(await asAdmin(`/api/webhooks/${sub.id}/deliveries?limit=2&before=${first.nextCursor}`));
    expect(rest).toEqual({ items: all.slice(2), nextCursor: null });
    const received3 = await received(hook);
    expect(all.map((d) => d.eventId).reverse()).toEqual(received3.map((d) => d.event.id));
  });
});

describe("deliveries", () => {
  it("delivers every event of a video, signed and in order, to each subscription that wants it", async () => {
    const everything = await receiver();
    const some = await receiver();
    const all = await subscribe(everything.url);
    const few = await subscribe(some.url, { eventTypes: ["video.upload.created", "video.ready"] });
    const { up, job } = await processingVideo({ title: "Delivered" });
    await publishPlayable(job);
    expect((await event(job, { type: "completed", metadata })).status).toBe(200);
    expect((await patchVideo(up, { title: "Delivered, edited" })).status).toBe(200);

    const log = await eventsOf(up.videoId);
    expect(log.map((e) => e.type)).toEqual([
      "video.upload.created",
      "video.upload.completed",
      "video.processing.started",
      "video.playable",
      "video.rendition.ready",
      "video.ready",
      "video.updated",
    ]);
    const got = await untilReceived(everything, up.videoId, log.length);
    // Each once, in order, exactly as the event log has it.
    expect(got.map((d) => d.event)).toEqual(log);
    expect(got.map((d) => d.headers["webhook-id"])).toEqual(log.map((e) => e.id));
    for (const d of got) expect(await verified(all.secret, d)).toBe(true);

    const picked = await untilReceived(some, up.videoId, 2);
    expect(picked.map((d) => d.event.type)).toEqual(["video.upload.created", "video.ready"]);
    for (const d of picked) expect(await verified(few.secret, d)).toBe(true);
    // Nothing more arrives later.
    await new Promise((r) => setTimeout(r, 500));
    expect(await received(everything, up.videoId)).toHaveLength(log.length);
    expect(await received(some, up.videoId)).toHaveLength(2);
  });

  it("retries a failing receiver 5 s, then 10 s later, and holds the video's later events until it answers", async () => {
    // The first try fails; the other video's event is answered; then the retries: 503, then 200.
    const hook = await receiver({ statuses: [500, 200, 503] });
    const sub = await subscribe(hook.url, { eventTypes: ["video.upload.created", "video.updated"] });
    const up = await createUpload({ size: 10, title: "Held" });
    await untilReceived(hook, up.videoId, 1);
    await until("the try is recorded", async () => (await deliveries(sub.id)).length === 1);
    let waiting = await pending(sub.id);
    expect(waiting).toEqual([expect.objectContaining({ video_key: up.videoId, attempts: 1 })]);
    expect(waiting[0]!.next_at - waiting[0]!.first_try_at!).toBeGreaterThanOrEqual(5000);
    expect(waiting[0]!.next_at - waiting[0]!.first_try_at!).toBeLessThan(7000);

    // The video's next event waits behind the one that failed; another video's goes out at once.
    expect((await patchVideo(up, { title: "Held, edited" })).status).toBe(200);
    const other = await createUpload({ size: 10, title: "Not held" });
    await untilReceived(hook, other.videoId, 1);
    expect((await received(hook, up.videoId)).map((d) => d.event.type)).toEqual(["video.upload.created"]);

    await retryNow(sub.id);
    waiting = await pending(sub.id);
    expect(waiting.map((p) => p.attempts)).toEqual([2, 0]);
    expect(waiting[0]!.next_at - Date.now()).toBeGreaterThan(8000);

    await retryNow(sub.id);
    const got = await untilReceived(hook, up.videoId, 4);
    expect(got.map((d) => [d.event.type, d.status])).toEqual([
      ["video.upload.created", 500],
      ["video.upload.created", 503],
      ["video.upload.created", 200],
      ["video.updated", 200],
    ]);
    // Every try carries the same event id, each freshly signed.
    expect(new Set(got.slice(0, 3).map((d) => d.headers["webhook-id"])).size).toBe(1);
    for (const d of got) expect(await verified(sub.secret, d)).toBe(true);

    await until("every try is recorded", async () => (await deliveries(sub.id)).length === 5);
    const tries = (await deliveries(sub.id)).filter((d) => d.eventId === got[0]!.event.id).reverse();
    expect(tries.map((d) => [d.attempt, d.statusCode, d.error])).toEqual([
      [1, 500, "answered HTTP 500"],
      [2, 503, "answered HTTP 503"],
      [3, 200, null],
    ]);
    expect(await pending(sub.id)).toEqual([]);
    const row = await env.DB.prepare("SELECT failing_since FROM webhooks WHERE id = ?").bind(sub.id).first();
    expect(row).toEqual({ failing_since: null });
  });

  it("delivers a video's events in the order of their sequence, whatever order they arrive in", async () => {
    const hook = await receiver();
    const sub = await subscribe(hook.url, { eventTypes: ["video.upload.created", "video.ready"] });
    const videoId = crypto.randomUUID();
    const [created, updated, ready] = [
      anEvent("video.upload.created", videoId),
      anEvent("video.updated", videoId),
      anEvent("video.ready", videoId),
    ];
    // The last first: it waits for the ones before it, passed over or delivered in their turn.
    await sender(sub.id).enqueue(sub.id, ready, true);
    await sender(sub.id).enqueue(sub.id, updated, false);
    await new Promise((r) => setTimeout(r, 500));
    expect(await received(hook, videoId)).toEqual([]);
    await sender(sub.id).enqueue(sub.id, created, true);
    const got = await untilReceived(hook, videoId, 2);
    expect(got.map((d) => d.event.sequence)).toEqual([1, 3]);
    // An event handed again after its turn is not sent twice.
    await sender(sub.id).enqueue(sub.id, created, true);
    await new Promise((r) => setTimeout(r, 500));
    expect(await received(hook, videoId)).toHaveLength(2);
  });

  it("sends a video's event whose predecessor never comes once it has waited GAP_WAIT_MS", async () => {
    const hook = await receiver();
    const sub = await subscribe(hook.url);
    const videoId = crypto.randomUUID();
    anEvent("video.upload.created", videoId); // Lost on its way: never handed over.
    const completed = anEvent("video.upload.completed", videoId);
    await sender(sub.id).enqueue(sub.id, completed, true);
    await new Promise((r) => setTimeout(r, 500));
    expect(await received(hook, videoId)).toEqual([]);
    await runInDurableObject(sender(sub.id), (_o: WebhookSender, state) => {
      state.storage.sql.exec("UPDATE pending SET received_at = ?", Date.now() - GAP_WAIT_MS);
      return state.storage.setAlarm(Date.now());
    });
    await runDurableObjectAlarm(sender(sub.id));
    expect((await untilReceived(hook, videoId, 1)).map((d) => d.event.id)).toEqual([completed.id]);
  });

  it("gives up on an event after a day of tries and goes on with its video's next one", async () => {
    const hook = await receiver({ statuses: [500, 500] });
    const sub = await subscribe(hook.url, { eventTypes: ["video.upload.created", "video.updated"] });
    const up = await createUpload({ size: 10 });
    await untilReceived(hook, up.videoId, 1);
    expect((await patchVideo(up, { title: "Next" })).status).toBe(200);
    await until("the first try is recorded", async () => (await pending(sub.id)).length === 2);
    // As if its first try had been 26 hours ago.
    await retryNow(sub.id, `, first_try_at = first_try_at - ${26 * 3600_000}`);
    const got = await untilReceived(hook, up.videoId, 3);
    expect(got.map((d) => [d.event.type, d.status])).toEqual([
      ["video.upload.created", 500],
      ["video.upload.created", 500],
      ["video.updated", 200],
    ]);
    await until("nothing waits", async () => (await pending(sub.id)).length === 0);
  });

  it("disables a subscription whose every try failed for WEBHOOK_DISABLE_AFTER_SECONDS, saying why", async () => {
    const hook = await receiver({ statuses: [500, 500, 500] });
    const sub = await subscribe(hook.url, { eventTypes: ["video.upload.created", "video.updated"] });
    const up = await createUpload({ size: 10 });
    await untilReceived(hook, up.videoId, 1);
    await until("its failing is noted", async () => {
      const row = await env.DB.prepare("SELECT failing_since FROM webhooks WHERE id = ?").bind(sub.id).first();
      return typeof row?.failing_since === "number";
    });
    // Failing for longer than the limit.
    const limit = readConfig(env).webhookDisableAfterMs;
    await env.DB.prepare("UPDATE webhooks SET failing_since = failing_since - ? WHERE id = ?")
      .bind(limit, sub.id)
      .run();
    await retryNow(sub.id);
    const now = await json(await asAdmin(`/api/webhooks/${sub.id}`));
    expect(now).toMatchObject({ enabled: false });
    expect(now.disabledReason).toMatch(/^Every delivery failed for 3\.0 days; the last: answered HTTP 500\.$/);
    await expectError(post(`/api/webhooks/${sub.id}/test`, {}), 409, "webhook_disabled");

    // Disabled, it is handed nothing new, and what waited is dropped.
    expect((await patchVideo(up, { title: "Not sent" })).status).toBe(200);
    await runDurableObjectAlarm(sender(sub.id));
    await new Promise((r) => setTimeout(r, 500));
    expect(await received(hook, up.videoId)).toHaveLength(2);
    expect(await pending(sub.id)).toEqual([]);

    // Enabled again, it starts afresh.
    const enabled = await json(await patch(`/api/webhooks/${sub.id}`, { enabled: true }));
    expect(enabled).toMatchObject({ enabled: true, disabledReason: null });
    expect((await patchVideo(up, { title: "Sent" })).status).toBe(200);
    // The receiver still has a failure scripted: one more try, then the event arrives.
    await untilReceived(hook, up.videoId, 3);
    await retryNow(sub.id);
    const got = await untilReceived(hook, up.videoId, 4);
    expect(got.slice(2).map((d) => [d.event.video?.title, d.status])).toEqual([
      ["Sent", 500],
      ["Sent", 200],
    ]);
    expect(await json(await asAdmin(`/api/webhooks/${sub.id}`))).toMatchObject({ enabled: true });
  });

  it("does not disable a subscription that failed for days once one of its tries succeeds", async () => {
    // Two videos' events tried side by side: the first answer, 200, comes before the other's 500.
    const hook = await receiver({ statuses: [500, 200], delays: [300, 0] });
    const sub = await subscribe(hook.url);
    const videos = [crypto.randomUUID(), crypto.randomUUID()];
    await runInDurableObject(sender(sub.id), (_o: WebhookSender, state) => {
      state.storage.sql.exec("INSERT OR IGNORE INTO meta (id, webhook_id) VALUES (1, ?)", sub.id);
      for (const videoId of videos) {
        const e = { ...anEvent("video.updated", videoId) };
        state.storage.sql.exec(
          `INSERT INTO pending (event_id, video_key, sequence, wanted, body, next_at, received_at)
           VALUES (?, ?, ?, 1, ?, ?, ?)`,
          e.id,
          videoId,
          e.sequence,
          JSON.stringify(e),
          Date.now(),
          Date.now(),
        );
      }
      return state.storage.setAlarm(Date.now() + 60_000);
    });
    const limit = readConfig(env).webhookDisableAfterMs;
    await env.DB.prepare("UPDATE webhooks SET failing_since = ? WHERE id = ?")
      .bind(Date.now() - limit - 60_000, sub.id)
      .run();
    expect(await runDurableObjectAlarm(sender(sub.id))).toBe(true);
    expect((await received(hook)).map((d) => d.status).sort()).toEqual([200, 500]);
    expect(await json(await asAdmin(`/api/webhooks/${sub.id}`))).toMatchObject({ enabled: true, disabledReason: null });
    const row = await env.DB.prepare("SELECT failing_since FROM webhooks WHERE id = ?").bind(sub.id).first<{
      failing_since: number;
    }>();
    expect(row!.failing_since).toBeGreaterThan(Date.now() - 60_000);
  });

  it("gives up on a receiver that does not answer within 10 s, which delays no other subscription", async () => {
    const silent = await receiver({ hang: true });
    const healthy = await receiver();
    const hung = await subscribe(silent.url, { eventTypes: ["video.upload.created"] });
    const fine = await subscribe(healthy.url, { eventTypes: ["video.upload.created"] });
    const started = Date.now();
    const up = await createUpload({ size: 10 });
    await untilReceived(silent, up.videoId, 1);
    await untilReceived(healthy, up.videoId, 1, 3000);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await deliveries(fine.id)).toMatchObject([{ statusCode: 200 }]);

    await until("the silent receiver's try is recorded", async () => (await deliveries(hung.id)).length === 1, 20_000);
    const [timedOut] = await deliveries(hung.id);
    expect(timedOut).toMatchObject({ attempt: 1, statusCode: null, error: "no answer within 10000 ms" });
    expect(timedOut!.latencyMs).toBeGreaterThanOrEqual(10_000);
    expect(timedOut!.latencyMs).toBeLessThan(12_000);
  });

  it("stops delivering to a subscription once it is deleted", async () => {
    const hook = await receiver({ statuses: [500] });
    const sub = await subscribe(hook.url, { eventTypes: ["video.upload.created"] });
    const up = await createUpload({ size: 10 });
    await untilReceived(hook, up.videoId, 1);
    await until("it waits to retry", async () => (await pending(sub.id)).length === 1);
    expect((await asAdmin(`/api/webhooks/${sub.id}`, { method: "DELETE" })).status).toBe(204);
    expect(await pending(sub.id)).toEqual([]);
    await runDurableObjectAlarm(sender(sub.id));
    await new Promise((r) => setTimeout(r, 500));
    expect(await received(hook, up.videoId)).toHaveLength(1);
  });
});

describe("the events queue's consumer", () => {
  const message = (id: string, body: unknown) => ({ id, timestamp: new Date(), attempts: 1, body });

  async function consume(messages: ReturnType<typeof message>[]) {
    const batch = createMessageBatch("reelay-events", messages);
    await consumeEvents(batch, env);
    return getQueueResult(batch, createExecutionContext());
  }

  it("hands each event once to every enabled subscription that wants it, and drops a malformed message", async () => {
    const wanting = await receiver();
    const other = await receiver();
    const off = await receiver();
    const a = await subscribe(wanting.url, { eventTypes: ["video.upload.aborted"] });
    await subscribe(other.url, { eventTypes: ["video.ready"] });
    const disabled = await subscribe(off.url, { eventTypes: ["video.upload.aborted"] });
    expect((await patch(`/api/webhooks/${disabled.id}`, { enabled: false })).status).toBe(200);
    const videoId = `v${crypto.randomUUID().replaceAll("-", "").slice(0, 19)}`;
    const e = anEvent("video.upload.aborted", videoId);
    // The queue delivers at least once: the same event twice in a batch is sent once.
    const result = await consume([
      message("m1", { event: e }),
      message("m2", { event: e }),
      message("m3", { event: { ...e, type: "video.exploded" } }),
      message("m4", "not an event"),
    ]);
    expect(result.explicitAcks.sort()).toEqual(["m1", "m2", "m3", "m4"]);
    expect(result.retryMessages).toEqual([]);
    const got = await untilReceived(wanting, videoId, 1);
    expect(got.map((d) => d.event)).toEqual([e]);
    expect(await verified(a.secret, got[0]!)).toBe(true);
    await new Promise((r) => setTimeout(r, 500));
    expect(await received(wanting, videoId)).toHaveLength(1);
    expect(await received(other, videoId)).toEqual([]);
    expect(await received(off, videoId)).toEqual([]);
  });

  it("hands a video's events over one after another, and retries the rest of them after one that fails", async () => {
    const sub = await subscribe((await receiver()).url);
    const [v1, v2] = [crypto.randomUUID(), crypto.randomUUID()];
    const e = [anEvent("video.upload.created", v1), anEvent("video.updated", v1), anEvent("video.updated", v2)];
    const late = anEvent("video.deleted", v1);
    const handed: string[] = [];
    const busy = new Set<string>();
    let overlapped = false;
    // A sender that takes a while, and cannot take the video's second event.
    const senders = {
      getByName: () => ({
        async enqueue(id: string, event: VideoEvent) {
          if (id !== sub.id) return;
          if (busy.has(event.videoId!)) overlapped = true;
          busy.add(event.videoId!);
          await new Promise((r) => setTimeout(r, 20));
          busy.delete(event.videoId!);
          if (event.id === e[1]!.id) throw new Error("overloaded");
          handed.push(event.id);
        },
      }),
    };
    const batch = createMessageBatch("reelay-events", [
      message("a", { event: e[0] }),
      message("b", { event: e[1] }),
      message("c", { event: e[2] }),
      message("d", { event: late }),
    ]);
    await consumeEvents(batch, { ...env, WEBHOOK_SENDERS: senders } as unknown as Env);
    const result = await getQueueResult(batch, createExecutionContext());
    expect(overlapped).toBe(false);
    expect(handed.sort()).toEqual([e[0]!.id, e[2]!.id].sort());
    expect(result.explicitAcks.sort()).toEqual(["a", "c"]);
    // The video's later event goes back with the one that failed, so it cannot overtake it.
    expect(result.retryMessages.map((m) => m.msgId).sort()).toEqual(["b", "d"]);
  });

  it("forgets events and tries older than EVENT_RETENTION_DAYS and keeps the rest", async () => {
    const day = 86_400_000;
    const retention = readConfig(env).eventRetentionMs;
    expect(retention).toBe(30 * day);
    const videoId = `v${crypto.randomUUID().replaceAll("-", "").slice(0, 19)}`;
    const insert = (e: VideoEvent, createdAt: number) =>
      env.DB.prepare("INSERT INTO events (id, type, video_id, sequence, created_at, body) VALUES (?, ?, ?, ?, ?, ?)")
        .bind(e.id, e.type, e.videoId, e.sequence, createdAt, JSON.stringify(e))
        .run();
    const old = anEvent("video.upload.created", videoId);
    const recent = { ...anEvent("video.upload.aborted", videoId), sequence: 2 };
    // Written late (its flush was retried), yet older than the retention: it goes, the recent one before it stays.
    await insert(recent, Date.now() - retention + day);
    await insert(old, Date.now() - retention - day);
    const tried = (eventId: string, attemptedAt: number) =>
      env.DB.prepare(
        "INSERT INTO webhook_deliveries (webhook_id, event_id, event_type, attempt, status_code, latency_ms, error, attempted_at) VALUES ('wh_gone', ?, 'video.upload.created', 1, 200, 5, NULL, ?)",
      )
        .bind(eventId, attemptedAt)
        .run();
    await tried(old.id, Date.now() - retention - day);
    await tried(recent.id, Date.now() - retention + day);
    await consume([]);
    expect((await eventsOf(videoId)).map((e) => e.id)).toEqual([recent.id]);
    // The record of deliveries is kept as long, no longer.
    const { results } = await env.DB.prepare(
      "SELECT event_id FROM webhook_deliveries WHERE webhook_id = 'wh_gone' ORDER BY seq",
    ).all();
    expect(results).toEqual([{ event_id: recent.id }]);
  });
});

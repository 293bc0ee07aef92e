// Webhooks on the real stack from `npm start`: one upload of a short clip,
// processed by the real transcoder, told to four subscriptions whose
// receivers are local HTTP servers. Each receiver verifies every delivery
// with the `standardwebhooks` package, as a consumer would. One answers 500
// three times before it answers 200 (the sender's backoff makes that about
// 35 s: 5 s, 10 s, 20 s); one never answers, and must not delay another.
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DeliveryPageSchema,
  EventPageSchema,
  type VideoEvent,
  type EventType,
  WebhookCreatedSchema,
} from "../../worker/contracts/events.ts";
import { isFinal, makeVideo, uploadFile, waitForVideo } from "../helpers.ts";
import { startStack, type Stack } from "../stack.ts";

const ADMIN_TOKEN = "e2e-admin-token-for-webhooks";
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

/** One delivery as a receiver got it: verified (or why not), when, and what it answered. */
type Got = { event: VideoEvent; verified: true | string; at: number; answered: number };

type Receiver = {
  /** Answers 500 to this many deliveries first. */
  failFirst?: number;
  /** Never answers. */
  silent?: boolean;
  /** The subscription's secret, set once it is created: every delivery is verified with it. */
  secret?: string;
  got: Got[];
};

let stack: Stack;
let dir: string;
let server: Server;
let receiverBase: string;
const receivers = new Map<string, Receiver>([
  ["steady", { got: [] }],
  ["flaky", { failFirst: 3, got: [] }],
  ["silent", { silent: true, got: [] }],
  ["second", { got: [] }],
]);
const subscriptions = new Map<string, string>();
let videoId: string;

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8");
}

/** A receiver as a consumer writes one: verify the raw body against the headers, then answer. */
async function receive(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const receiver = receivers.get(new URL(req.url ?? "/", "http://receiver").pathname.slice(1));
  if (!receiver || req.method !== "POST") return void res.writeHead(404).end();
  const body = await readBody(req);
  const headers = Object.fromEntries(
    Object.entries(req.headers).filter((e): e is [string, string] => typeof e[1] === "string"),
  );
  let verified: true | string = true;
  try {
    new Webhook(receiver.secret ?? "whsec_").verify(body, headers);
  } catch (err) {
    verified = String(err);
  }
  if (receiver.silent) {
    receiver.got.push({ event: JSON.parse(body) as VideoEvent, verified, at: Date.now(), answered: 0 });
    return; // Held open: the sender gives up on it after its timeout.
  }
  const answered = receiver.got.filter((g) => g.answered >= 500).length < (receiver.failFirst ?? 0) ? 500 : 200;
  receiver.got.push({ event: JSON.parse(body) as VideoEvent, verified, at: Date.now(), answered });
  res.writeHead(answered, { "content-type": "text/plain" }).end(answered === 200 ? "ok" : "not now");
}

async function api(path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${stack.url}${path}`, {
    ...init,
    headers: { ...admin, ...(init.body ? { "content-type": "application/json" } : {}), ...init.headers },
  });
}

/** The video's events as the log has them, oldest first. */
async function logged(id: string): Promise<VideoEvent[]> {
  const res = await api(`/api/events?videoId=${id}&limit=1000`);
  expect(res.status).toBe(200);
  return EventPageSchema.parse(await res.json()).items;
}

/** What a receiver accepted (answered 200) of the video's events, in the order they arrived. */
const accepted = (name: string) =>
  receivers.get(name)!.got.filter((g) => g.event.videoId === videoId && g.answered === 200);

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Every event of the log reached the receiver (answered 200), and the log ends with video.ready. */
const hasAll = async (name: string) => {
  const log = await logged(videoId);
  const ids = new Set(accepted(name).map((g) => g.event.id));
  return log.at(-1)?.type === "video.ready" && log.every((e) => ids.has(e.id));
};

beforeAll(async () => {
  server = createServer((req, res) => {
    receive(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  receiverBase = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  dir = await mkdtemp(join(tmpdir(), "reelay-e2e-hooks-"));
  const [started, clip] = await Promise.all([
    startStack({ env: { ADMIN_TOKEN } }),
    makeVideo(join(dir, "clip.mp4"), { size: "640x360", seconds: 4 }),
  ]);
  stack = started;

  for (const [name, receiver] of receivers) {
    const res = await api("/api/webhooks", {
      method: "POST",
      body: JSON.stringify({ url: `${receiverBase}/${name}`, description: name }),
    });
    expect(res.status).toBe(201);
    const created = WebhookCreatedSchema.parse(await res.json());
    receiver.secret = created.secret;
    subscriptions.set(name, created.id);
  }

  const up = await uploadFile(stack.url, clip, "Told by webhooks");
  videoId = up.videoId;
  await waitForVideo(stack.url, videoId, isFinal, 120_000);
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await stack?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("webhooks on the real stack", () => {
  it("delivers one upload's events to a receiver that verifies each, in order", async () => {
    await until("the steady receiver has every event", () => hasAll("steady"), 30_000);
    const got = accepted("steady");
    // Every delivery verifies with the subscription's secret, and with no other.
    for (const g of got) expect(g.verified).toBe(true);
    expect(() => new Webhook(receivers.get("second")!.secret!).verify("{}", {})).toThrow();
    const types = got.map((g) => g.event.type);
    const milestones: EventType[] = [
      "video.upload.created",
      "video.upload.completed",
      "video.processing.started",
      "video.playable",
      "video.ready",
    ];
    expect(types.filter((t) => milestones.includes(t))).toEqual(milestones);
    expect(types).toContain("video.rendition.ready");
    // Exactly the log, in its order, each once.
    expect(got.map((g) => g.event)).toEqual(await logged(videoId));
    expect(got.map((g) => g.event.sequence)).toEqual(got.map((_, i) => i + 1));
  });

  it("keeps trying a receiver that answers 500 three times, which then gets every event, in order", async () => {
    await until("the flaky receiver has every event", () => hasAll("flaky"), 120_000);
    const all = receivers.get("flaky")!.got.filter((g) => g.event.videoId === videoId);
    for (const g of all) expect(g.verified).toBe(true);
    const failed = all.filter((g) => g.answered === 500);
    expect(failed).toHaveLength(3);
    // The first event was tried four times, 5, 10 and 20 s apart; its video's later events waited for it.
    const first = failed[0]!.event;
    expect(all.slice(0, 4).map((g) => [g.event.id, g.answered])).toEqual([
      [first.id, 500],
      [first.id, 500],
      [first.id, 500],
      [first.id, 200],
    ]);
    const gaps = all.slice(1, 4).map((g, i) => g.at - all[i]!.at);
    expect(gaps[0]).toBeGreaterThanOrEqual(4500);
    expect(gaps[1]).toBeGreaterThanOrEqual(9500);
    expect(gaps[2]).toBeGreaterThanOrEqual(19_500);
    expect(accepted("flaky").map((g) => g.event)).toEqual(await logged(videoId));

    const res = await api(`/api/webhooks/${subscriptions.get("flaky")}/deliveries?limit=1000`);
    expect(res.status).toBe(200);
    const tries = DeliveryPageSchema.parse(await res.json())
      .items.filter((d) => d.eventId === first.id)
      .reverse();
    expect(tries.map((d) => [d.attempt, d.statusCode, d.error])).toEqual([
      [1, 500, "answered HTTP 500"],
      [2, 500, "answered HTTP 500"],
      [3, 500, "answered HTTP 500"],
      [4, 200, null],
    ]);
    for (const d of tries) expect(d.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it("delivers to a second subscription within seconds while a receiver never answers", async () => {
    await until("the second receiver has every event", () => hasAll("second"), 30_000);
    const got = accepted("second");
    for (const g of got) expect(g.verified).toBe(true);
    // Each arrived within a few seconds of its event, though the silent receiver held every try for 10 s.
    const lags = got.map((g) => g.at - Date.parse(g.event.timestamp));
    expect(Math.max(...lags), `lags: ${lags.join(", ")} ms`).toBeLessThan(5000);
    const silent = receivers.get("silent")!.got.filter((g) => g.event.videoId === videoId);
    expect(silent.length).toBeGreaterThan(0);
    expect(silent.map((g) => g.event.type)).not.toContain("video.ready");

    await until(
      "the silent receiver's first try is recorded",
      async () => {
        const res = await api(`/api/webhooks/${subscriptions.get("silent")}/deliveries`);
        return DeliveryPageSchema.parse(await res.json()).items.length > 0;
      },
      20_000,
    );
    const res = await api(`/api/webhooks/${subscriptions.get("silent")}/deliveries`);
    const [attempt] = DeliveryPageSchema.parse(await res.json()).items.reverse();
    expect(attempt).toMatchObject({ attempt: 1, statusCode: null, error: "no answer within 10000 ms" });
  });
});

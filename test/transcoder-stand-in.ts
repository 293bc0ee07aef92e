/**
 * The transcoder as the worker tests' queue consumer sees it: a Node HTTP
 * server speaking the real transcoder's `POST /jobs` contract
 * (transcoder/server.ts): the body is read by the transcoder's own
 * `readJobSpec` (400 `invalid_request` otherwise), then the job is
 * accepted with 202 or refused with 503 `transcoder_busy` or 500
 * `internal_error`, codes and statuses from the error catalogue.
 *
 * Which answer a video's hand-offs get is scripted by the test that owns the
 * video, so test files running side by side do not steer each other:
 *   PUT /stand-in/videos/:videoId/answers  [202, 503, …]  the next answers, in order
 *   GET /stand-in/videos/:videoId/jobs                    the job requests received
 * A video with no answer left finds the transcoder down (the connection is
 * dropped), which is what every other worker test expects of a hand-off.
 *
 * It is also the web server that imports from a URL fetch from
 * (worker/imports/): a test puts a file and says how it is served,
 *   PUT  /stand-in/origins/:name          the file's bytes; `stand-in-origin` header: an OriginScript (JSON)
 *   GET  /stand-in/origins/:name/requests the requests its URL received (their Range headers), oldest first
 *   POST /stand-in/origins/:name/release  lets a response held by `holdAfter` go on
 * and the import fetches `/origins/:name` (any path below it, so the URL may
 * end in a file name). Each test uses names of its own.
 *
 * And it is the receiver webhook deliveries go to (worker/webhooks/): a test
 * says how a receiver answers, points a subscription at `/hooks/:name`, and
 * reads what arrived,
 *   PUT  /stand-in/hooks/:name   a HookScript (JSON); a receiver never scripted answers 200 at once
 *   GET  /stand-in/hooks/:name   the deliveries it received (headers, raw body, its answer), oldest first
 *   POST /hooks/:name            a delivery
 *
 * Started once per run as the worker project's globalSetup; its address
 * reaches the worker as TRANSCODER_URL and the tests through `inject`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { gzipSync } from "node:zlib";
import type { TestProject } from "vitest/node";
import { readBody, readJobSpec, refuse, send } from "../transcoder/server.ts";
import type { JobSpec } from "../worker/contracts/job.ts";

declare module "vitest" {
  export interface ProvidedContext {
    transcoderUrl: string;
  }
}

export type Answer = 202 | 500 | 503;

/** How an origin serves its file; without any field, as a plain web server would (Content-Length, Range). */
export type OriginScript = {
  /** Content-Type; `video/mp4` unless said, none at all for "". */
  type?: string;
  /** Whether a `Range` request gets 206 (true unless said); false: always the whole file with 200. */
  ranges?: boolean;
  /** Sent without Content-Length (chunked). */
  chunked?: boolean;
  /** Answers this status with a short text body instead of the file (with `location`, a redirect). */
  status?: number;
  location?: string;
  /** The first this many requests are answered 500. */
  failFirst?: number;
  /** The first answer with the file stops after this many bytes: the connection is dropped. */
  cutAfter?: number;
  /** The first answer with the file pauses after this many bytes until `POST …/release`. */
  holdAfter?: number;
  /** Declares this Content-Length and sends no byte (a file too large to bother sending). */
  claimLength?: number;
  disposition?: string;
  /**
   * Sends the file gzip-compressed (Content-Encoding: gzip, Content-Length of
   * the compressed bytes): to a client that accepts gzip, or to any.
   */
  gzip?: "if-accepted" | "always";
};

/** How a webhook receiver answers; without any field, 200 at once. */
export type HookScript = {
  /** The first deliveries get these statuses, in order; the rest 200. */
  statuses?: number[];
  /** Each answer waits this long. */
  delayMs?: number;
  /** The first deliveries' answers wait these long, in order (before `delayMs` applies). */
  delays?: number[];
  /** Never answers: the connection stays open until the sender gives up. */
  hang?: boolean;
};

/** One delivery as the receiver got it; `status` is its answer, null when it never answered. */
export type HookDelivery = { headers: Record<string, string>; body: string; status: number | null; at: number };

type Hook = { script: HookScript; deliveries: HookDelivery[] };

type Origin = {
  file: Buffer;
  script: OriginScript;
  requests: { range: string | null; acceptEncoding: string | null }[];
  served: number;
  cut: boolean;
  held: boolean;
  release: () => void;
  released: Promise<void>;
};

/** Serves an origin's file to one request as its script says. */
async function serveOrigin(origin: Origin, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { file, script } = origin;
  origin.requests.push({ range: req.headers.range ?? null, acceptEncoding: req.headers["accept-encoding"] ?? null });
  if (origin.served++ < (script.failFirst ?? 0)) return void res.writeHead(500).end("Try again later.");
  if (script.status !== undefined) {
    const headers = script.location ? { location: script.location } : {};
    return void res.writeHead(script.status, { ...headers, "content-type": "text/plain" }).end(`${script.status}`);
  }
  const type = script.type ?? "video/mp4";
  const headers: Record<string, string | number> = {
    ...(type ? { "content-type": type } : {}),
    ...(script.disposition ? { "content-disposition": script.disposition } : {}),
    ...(script.ranges === false ? {} : { "accept-ranges": "bytes" }),
  };
  if (script.claimLength !== undefined) {
    res.writeHead(200, { ...headers, "content-length": script.claimLength });
    res.flushHeaders();
    // Dropped when the client goes, or after a while if it never does.
    setTimeout(() => res.destroy(), 30_000).unref();
    return;
  }
  const range = script.ranges === false ? null : /^bytes=([0-9]+)-$/.exec(req.headers.range ?? "");
  const from = range ? Number(range[1]) : 0;
  if (range && from >= file.length) {
    return void res.writeHead(416, { "content-range": `bytes */${file.length}` }).end();
  }
  let body = file.subarray(from);
  if (script.gzip === "always" || (script.gzip && /\bgzip\b/.test(req.headers["accept-encoding"] ?? ""))) {
    body = gzipSync(body);
    headers["content-encoding"] = "gzip";
  }
  if (range) headers["content-range"] = `bytes ${from}-${file.length - 1}/${file.length}`;
  if (!script.chunked) headers["content-length"] = body.length;
  res.writeHead(range ? 206 : 200, headers);
  const cutAt = !origin.cut && script.cutAfter !== undefined ? script.cutAfter : undefined;
  const holdAt = !origin.held && script.holdAfter !== undefined ? script.holdAfter : undefined;
  if (cutAt !== undefined) origin.cut = true;
  if (holdAt !== undefined) origin.held = true;
  const stop = cutAt ?? holdAt;
  if (stop === undefined) return void (await write(res, body)).end();
  await write(res, body.subarray(0, stop));
  if (cutAt !== undefined) return void res.destroy();
  await Promise.race([origin.released, new Promise((resolve) => res.once("close", resolve))]);
  if (!res.destroyed) (await write(res, body.subarray(stop))).end();
}

/** Writes `bytes` and waits until they are handed to the socket; a chunked answer stays chunked. */
async function write(res: ServerResponse, bytes: Buffer): Promise<ServerResponse> {
  if (bytes.length === 0) return res;
  await new Promise<void>((resolve, reject) => res.write(bytes, (err) => (err ? reject(err) : resolve())));
  return res;
}

async function readBytes(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** Records a delivery to `hook` and answers it as its script says. */
async function receiveDelivery(hook: Hook, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = (await readBytes(req)).toString("utf8");
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) if (typeof value === "string") headers[name] = value;
  const delivery: HookDelivery = { headers, body, status: null, at: Date.now() };
  hook.deliveries.push(delivery);
  if (hook.script.hang) {
    // Held until the sender gives up (or, should it never, a while later).
    setTimeout(() => res.destroy(), 60_000).unref();
    return;
  }
  const status = hook.script.statuses?.shift() ?? 200;
  const delay = hook.script.delays?.shift() ?? hook.script.delayMs ?? 0;
  if (delay > 0) await new Promise((r) => setTimeout(r, delay));
  delivery.status = status;
  res.writeHead(status, { "content-type": "text/plain" }).end(status < 300 ? "Thanks." : "Not now.");
}

function newOrigin(file: Buffer, script: OriginScript): Origin {
  let release = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { file, script, requests: [], served: 0, cut: false, held: false, release, released };
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const answers = new Map<string, Answer[]>();
  const received = new Map<string, JobSpec[]>();
  const origins = new Map<string, Origin>();
  const hooks = new Map<string, Hook>();
  const hook = (name: string): Hook => {
    if (!hooks.has(name)) hooks.set(name, { script: {}, deliveries: [] });
    return hooks.get(name)!;
  };

  async function submit(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const job = await readJobSpec(req, res);
    if (!job) return;
    const answer = answers.get(job.videoId)?.shift();
    if (answer === undefined) return void res.destroy();
    received.set(job.videoId, [...(received.get(job.videoId) ?? []), job]);
    if (answer === 202) return send(res, 202, { accepted: true, jobId: job.jobId });
    if (answer === 503) return refuse(res, "transcoder_busy", "Already running 1 of 1 jobs.");
    refuse(res, "internal_error", "Internal error.");
  }

  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://stand-in").pathname;
    const video = /^\/stand-in\/videos\/([^/]+)\/(answers|jobs)$/.exec(path);
    const setup = /^\/stand-in\/origins\/([^/]+)(?:\/(requests|release))?$/.exec(path);
    const download = /^\/origins\/([^/]+)(?:\/.*)?$/.exec(path);
    const hookSetup = /^\/stand-in\/hooks\/([^/]+)$/.exec(path);
    const delivery = /^\/hooks\/([^/]+)$/.exec(path);
    const handle = async () => {
      if (path === "/jobs" && req.method === "POST") return submit(req, res);
      if (download && req.method === "GET") {
        const origin = origins.get(download[1]!);
        if (!origin) return void res.writeHead(404, { "content-type": "text/plain" }).end("No such file.");
        return serveOrigin(origin, req, res);
      }
      if (setup && !setup[2] && req.method === "PUT") {
        const script = JSON.parse(String(req.headers["stand-in-origin"] ?? "{}")) as OriginScript;
        origins.set(setup[1]!, newOrigin(await readBytes(req), script));
        return void res.writeHead(204).end();
      }
      if (setup?.[2] === "requests" && req.method === "GET")
        return send(res, 200, origins.get(setup[1]!)?.requests ?? []);
      if (setup?.[2] === "release" && req.method === "POST") {
        origins.get(setup[1]!)?.release();
        return void res.writeHead(204).end();
      }
      if (video?.[2] === "answers" && req.method === "PUT") {
        answers.set(video[1]!, JSON.parse((await readBody(req)) ?? "[]") as Answer[]);
        return void res.writeHead(204).end();
      }
      if (video?.[2] === "jobs" && req.method === "GET") return send(res, 200, received.get(video[1]!) ?? []);
      if (delivery && req.method === "POST") return receiveDelivery(hook(delivery[1]!), req, res);
      if (hookSetup && req.method === "PUT") {
        hook(hookSetup[1]!).script = JSON.parse((await readBody(req)) ?? "{}") as HookScript;
        return void res.writeHead(204).end();
      }
      if (hookSetup && req.method === "GET") return send(res, 200, hook(hookSetup[1]!).deliveries);
      refuse(res, "not_found", "No such endpoint.");
    };
    handle().catch((e: unknown) => {
      if (!res.headersSent) refuse(res, "internal_error", String(e));
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  project.provide("transcoderUrl", `http://127.0.0.1:${(server.address() as AddressInfo).port}`);

  return async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
}

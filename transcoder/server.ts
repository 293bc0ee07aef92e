/**
 * The transcoder service the Reelay worker talks to (in a Cloudflare
 * Container, or locally). It accepts jobs up to a fixed concurrency and
 * refuses the rest with 503 rather than queueing them: the worker's queue
 * already does that, and a container should not hold work it cannot start.
 *
 * Environment: TRANSCODER_PORT or PORT (default 8788), TRANSCODER_CONCURRENCY
 * (default 1), TMPDIR (job temp dirs). `node transcoder/server.ts` starts it.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { ERRORS, type ErrorBody, type ErrorCode } from "../worker/contracts/errors.ts";
import { type JobSpec, JobSpecSchema } from "../worker/contracts/job.ts";
import { runJob, type JobLog } from "./job.ts";

export type ServerOptions = {
  port?: number;
  host?: string;
  concurrency?: number;
  tmpDir?: string;
  /** One line per event; defaults to stdout. */
  logLine?: (line: string) => void;
};

export type TranscoderServer = {
  port: number;
  url: string;
  /** Jobs currently running. */
  running(): number;
  /** Resolves when no job is running. */
  idle(): Promise<void>;
  /** Stops accepting, aborts running jobs, waits for their cleanup. */
  close(): Promise<void>;
};

const MAX_BODY_BYTES = 64 * 1024;

/** A JSON answer (also used by the worker tests' transcoder stand-in, which speaks this contract). */
export function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

/** An error answer; its status is the one the catalogue gives its code. */
export function refuse(res: ServerResponse, code: ErrorCode, message: string): undefined {
  send(res, ERRORS[code], { error: { code, message } } satisfies ErrorBody);
}

/** The job of a `POST /jobs`, or undefined once the request is answered with why it is not one. */
export async function readJobSpec(req: IncomingMessage, res: ServerResponse): Promise<JobSpec | undefined> {
  const text = await readBody(req);
  if (text === null) return refuse(res, "payload_too_large", `The body must be at most ${MAX_BODY_BYTES} bytes.`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return refuse(res, "invalid_json", "The body must be JSON.");
  }
  const parsed = JobSpecSchema.safeParse(json);
  if (!parsed.success) {
    const message = parsed.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; ");
    return refuse(res, "invalid_request", message);
  }
  return parsed.data;
}

/** The body as text, or null once it runs past `MAX_BODY_BYTES`. */
export async function readBody(req: IncomingMessage): Promise<string | null> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

export async function startServer(options: ServerOptions = {}): Promise<TranscoderServer> {
  const concurrency = Math.max(1, Math.floor(Number(options.concurrency) || 1));
  const tmpRoot = options.tmpDir ?? tmpdir();
  const logLine = options.logLine ?? ((line: string) => console.log(line));
  // Never pass the token or URLs here: URLs may carry signatures.
  const log: JobLog = (event, fields = {}) =>
    logLine(JSON.stringify({ time: new Date().toISOString(), event, ...fields }));
  const stop = new AbortController();
  const jobs = new Map<string, Promise<unknown>>();
  let closing = false;

  async function submit(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const job = await readJobSpec(req, res);
    if (!job) return;
    if (closing) return refuse(res, "shutting_down", "The transcoder is shutting down.");
    // A redelivered request for a job already running is accepted, not run twice.
    if (jobs.has(job.jobId)) return send(res, 202, { accepted: true, jobId: job.jobId });
    if (jobs.size >= concurrency)
      return refuse(res, "transcoder_busy", `Already running ${jobs.size} of ${concurrency} jobs.`);

    log("job.accepted", { jobId: job.jobId, videoId: job.videoId, attempt: job.attempt });
    const running = runJob(job, { tmpRoot, stop: stop.signal, log })
      .catch((e: unknown) => log("job.crashed", { jobId: job.jobId, error: String(e) }))
      .finally(() => jobs.delete(job.jobId));
    jobs.set(job.jobId, running);
    send(res, 202, { accepted: true, jobId: job.jobId });
  }

  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://transcoder").pathname;
    const handle = async () => {
      if (path === "/health") {
        if (req.method !== "GET" && req.method !== "HEAD") return refuse(res, "method_not_allowed", "Use GET.");
        return send(res, 200, { ok: true });
      }
      if (path === "/jobs") {
        if (req.method !== "POST") return refuse(res, "method_not_allowed", "Use POST.");
        return submit(req, res);
      }
      refuse(res, "not_found", "No such endpoint.");
    };
    handle().catch((e: unknown) => {
      log("http.error", { path, error: String(e) });
      if (!res.headersSent) refuse(res, "internal_error", "Internal error.");
      else res.destroy();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 8788, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  log("server.listening", { port, concurrency });

  const idle = async () => {
    while (jobs.size > 0) await Promise.allSettled([...jobs.values()]);
  };

  return {
    port,
    url: `http://127.0.0.1:${port}`,
    running: () => jobs.size,
    idle,
    async close() {
      closing = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      stop.abort();
      await idle();
      server.closeAllConnections();
      await closed;
      log("server.stopped");
    },
  };
}

if (import.meta.main) {
  const env = process.env;
  const server = await startServer({
    port: Number(env.TRANSCODER_PORT ?? env.PORT ?? 8788),
    concurrency: Number(env.TRANSCODER_CONCURRENCY ?? 1),
  });
  const shutdown = () => {
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once("SIGTERM", shutdown);
  process.once("SIGINT", shutdown);
}

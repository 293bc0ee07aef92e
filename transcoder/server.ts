/**
 * The transcoder service the Reelay worker talks to (in a Cloudflare
 * Container, or locally). It accepts tasks up to a fixed concurrency (ladder
 * tasks, spans and packages, and first tasks each that many) and refuses the rest with 503 rather than
 * queueing them: the worker's queue already does that, and a container
 * should not hold work it cannot start.
 *
 * Only the worker may give it work: a job is accepted only with a job token
 * the worker signed with the shared TRANSCODER_SECRET, naming that job, and
 * only if every URL it names lies under the worker's own URL (WORKER_URL).
 * It listens on 127.0.0.1 unless told otherwise (TRANSCODER_HOST; a container
 * must listen where the Container class reaches it).
 *
 * Environment: config.ts (README "Configuration"), and TMPDIR for job temp
 * dirs. `node transcoder/server.ts` starts it.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { ERRORS, type ErrorBody, type ErrorCode } from "../worker/contracts/errors.ts";
import { type JobSpec, JobSpecSchema } from "../worker/contracts/job.ts";
import { verifyJobToken } from "../worker/contracts/job-token.ts";
import { DEFAULT_BUDGET, DEFAULT_LIMITS, DEFAULT_STALL_MS, type JobSettings, readTranscoderConfig } from "./config.ts";
import { runJob, type JobLog } from "./job.ts";

export type ServerOptions = {
  /** Verifies the job tokens the worker signs. */
  secret: string;
  /** The worker's base URL: every URL of a job must lie under it. */
  workerUrl: string;
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  concurrency?: number;
  tmpDir?: string;
  settings?: Partial<JobSettings>;
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

/** What one running task is known by: its job, and its span's or package's try if it is one. */
const taskKey = (job: JobSpec) =>
  job.span
    ? `${job.jobId}/${job.span.index}.${job.span.attempt}`
    : job.package
      ? `${job.jobId}/package.${job.package.attempt}`
      : job.jobId;

/** A span or a package: work on the ladder, which no viewer waits for. First tasks' keys alone have no `/`. */
const isLadderTask = (job: JobSpec) => !!(job.span || job.package);

/** Whether `url` lies under `base`: same origin, and its path within the base's. No credentials in it. */
export function isUnder(url: string, base: string): boolean {
  const u = new URL(url);
  const b = new URL(base);
  const basePath = b.pathname.endsWith("/") ? b.pathname : `${b.pathname}/`;
  return u.origin === b.origin && !u.username && !u.password && u.pathname.startsWith(basePath);
}

/**
 * Whether the worker sent this job: its token verifies with the shared
 * secret, is unexpired and names this very job, and all its URLs lie under
 * the worker. Otherwise the request is answered 401 `invalid_token` or 400
 * `invalid_request`, and false returned.
 */
export async function isWorkersJob(
  job: JobSpec,
  worker: { secret: string; workerUrl: string },
  res: ServerResponse,
): Promise<boolean> {
  const claims = await verifyJobToken(worker.secret, job.token);
  const sameSpan = claims?.span?.index === job.span?.index && claims?.span?.attempt === job.span?.attempt;
  const samePackage = claims?.package?.attempt === job.package?.attempt;
  if (!claims || claims.jobId !== job.jobId || claims.videoId !== job.videoId || !sameSpan || !samePackage) {
    refuse(res, "invalid_token", "The job token is not valid for this job.");
    return false;
  }
  const outside = (["sourceUrl", "uploadBaseUrl", "callbackUrl"] as const).filter(
    (field) => !isUnder(job[field], worker.workerUrl),
  );
  if (outside.length > 0) {
    refuse(res, "invalid_request", `${outside.join(", ")}: must lie under the worker's URL.`);
    return false;
  }
  return true;
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

export async function startServer(options: ServerOptions): Promise<TranscoderServer> {
  if (!options.secret || !options.workerUrl) throw new Error("The transcoder needs the worker's secret and URL.");
  const concurrency = Math.max(1, Math.floor(Number(options.concurrency) || 1));
  const tmpRoot = options.tmpDir ?? tmpdir();
  const settings: JobSettings = {
    limits: DEFAULT_LIMITS,
    budget: DEFAULT_BUDGET,
    stallMs: DEFAULT_STALL_MS,
    ...options.settings,
  };
  const logLine = options.logLine ?? ((line: string) => console.log(line));
  // Never pass the token or URLs here: URLs may carry signatures.
  const log: JobLog = (event, fields = {}) =>
    logLine(JSON.stringify({ time: new Date().toISOString(), event, ...fields }));
  const stop = new AbortController();
  const jobs = new Map<string, Promise<unknown>>();
  /** Tasks still working (not just sending their last word or cleaning up): what the slots count. */
  const working = new Set<string>();
  let closing = false;

  async function submit(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const job = await readJobSpec(req, res);
    if (!job) return;
    if (!(await isWorkersJob(job, options, res))) return;
    if (closing) return refuse(res, "shutting_down", "The transcoder is shutting down.");
    // A redelivered request for a task already running is accepted, not run twice.
    const key = taskKey(job);
    if (jobs.has(key)) return send(res, 202, { accepted: true, jobId: job.jobId });
    // Ladder tasks and first tasks have slots of their own: what makes a video playable never waits for a
    // ladder. A package is a ladder task: background work like a span's, and short (a copy, no encode).
    const kind = isLadderTask(job) ? "ladder tasks" : "first tasks";
    const same = [...working].filter((k) => k.includes("/") === isLadderTask(job)).length;
    if (same >= concurrency)
      return refuse(res, "transcoder_busy", `Already running ${same} of ${concurrency} ${kind}.`);

    const task = job.span
      ? { span: job.span.index, spanAttempt: job.span.attempt }
      : job.package
        ? { package: job.package.attempt }
        : {};
    log("job.accepted", { jobId: job.jobId, videoId: job.videoId, attempt: job.attempt, ...task });
    working.add(key);
    const onWorkDone = () => working.delete(key);
    const running = runJob(job, { tmpRoot, stop: stop.signal, log, settings, onWorkDone })
      .catch((e: unknown) => log("job.crashed", { jobId: job.jobId, error: String(e) }))
      .finally(() => {
        working.delete(key);
        jobs.delete(key);
      });
    jobs.set(key, running);
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
    server.listen(options.port ?? 8788, options.host ?? "127.0.0.1", () => resolve());
  });
  const { port, address } = server.address() as AddressInfo;
  log("server.listening", { port, address, concurrency });

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
  let config: ReturnType<typeof readTranscoderConfig>;
  try {
    config = readTranscoderConfig(process.env);
  } catch (error) {
    console.error((error as Error).message);
    process.exit(1);
  }
  const { limits, budget, stallMs } = config;
  const server = await startServer({ ...config, settings: { limits, budget, stallMs } });
  const shutdown = () => {
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once("SIGTERM", shutdown);
  process.once("SIGINT", shutdown);
}

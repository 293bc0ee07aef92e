/**
 * Reelay's upload client, for browsers and Node alike (web-standard `fetch`,
 * `Blob`, `crypto.subtle` only).
 *
 * create (or resume from `GET /api/uploads/:id`) → chunk PUTs in parallel,
 * each with its SHA-256 as `Content-Digest` → retries with backoff → complete.
 * A dropped connection costs only the chunk in flight; after a crash, pass
 * `resume` and only the chunks the server lacks are sent.
 */

export type UploadProgress = {
  uploadedBytes: number;
  totalBytes: number;
  chunksDone: number;
  totalChunks: number;
};

export type UploadSession = { videoId: string; uploadToken: string; chunkSize: number; totalChunks: number };

export type UploadOptions = {
  /** Base URL of the Reelay worker, e.g. `http://localhost:8787`. */
  endpoint: string;
  file: Blob;
  filename: string;
  contentType?: string;
  title?: string;
  description?: string;
  tags?: string[];
  /** `unlisted` videos play by link but are never listed or found. */
  visibility?: "public" | "unlisted";
  /** Preferred chunk size; the server clamps it. */
  chunkSize?: number;
  /** Chunks in flight at once. */
  concurrency?: number;
  /** Attempts per request before giving up. */
  maxAttempts?: number;
  /** `API_TOKEN`, when the server requires one to create uploads. */
  apiToken?: string;
  /** Continue an upload created earlier instead of creating one. */
  resume?: { videoId: string; uploadToken: string };
  /** Called once the upload exists: persist it to resume after a crash. */
  onSession?: (session: UploadSession) => void;
  onProgress?: (progress: UploadProgress) => void;
  signal?: AbortSignal;
  fetch?: typeof fetch;
};

export type UploadResult = { videoId: string; uploadToken: string; status: string };

const defaults = { concurrency: 4, maxAttempts: 8 };

/** A refusal from the server that retrying cannot fix. */
export class UploadError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: Record<string, unknown>;
  constructor(status: number, code: string, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = "UploadError";
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

export async function upload(options: UploadOptions): Promise<UploadResult> {
  const o = { ...defaults, ...options } satisfies UploadOptions;
  const http = new Http(o);
  const session = o.resume ? await resumeSession(http, o) : await createSession(http, o);
  o.onSession?.(session);
  const { videoId, uploadToken } = session;

  const received = o.resume ? await receivedChunks(http, session, o.file.size) : [];
  if (received === "done") return { videoId, uploadToken, status: "processing" };
  const progress = new ProgressTracker(session, o.file.size, received, o.onProgress);

  for (let round = 0; ; round++) {
    await sendChunks(http, o, session, progress.missing(), progress);
    const res = await http.request(`/api/uploads/${videoId}/complete`, { method: "POST", token: uploadToken });
    const body = await readJson(res);
    if (res.status === 202) return { videoId, uploadToken, status: body.status };
    // The server lost track of a chunk (rare): send those again and retry.
    if (res.status === 409 && body.error?.code === "missing_chunks" && round < 3) {
      progress.forget(body.error.missing as number[]);
      continue;
    }
    throw errorFrom(res.status, body);
  }
}

async function createSession(http: Http, o: UploadOptions): Promise<UploadSession> {
  const res = await http.request("/api/uploads", {
    method: "POST",
    token: o.apiToken,
    json: {
      filename: o.filename,
      size: o.file.size,
      contentType: o.contentType || o.file.type || "application/octet-stream",
      title: o.title,
      description: o.description,
      tags: o.tags,
      visibility: o.visibility,
      chunkSize: o.chunkSize,
    },
  });
  const body = await readJson(res);
  if (res.status !== 201) throw errorFrom(res.status, body);
  return body as UploadSession;
}

async function resumeSession(http: Http, o: UploadOptions): Promise<UploadSession> {
  const { videoId, uploadToken } = o.resume!;
  const res = await http.request(`/api/uploads/${videoId}`, { token: uploadToken });
  const body = await readJson(res);
  if (res.status !== 200) throw errorFrom(res.status, body);
  if (body.size !== o.file.size) {
    throw new UploadError(400, "file_mismatch", `This upload expects ${body.size} bytes; the file has ${o.file.size}.`);
  }
  return { videoId, uploadToken, chunkSize: body.chunkSize, totalChunks: body.totalChunks };
}

async function receivedChunks(http: Http, s: UploadSession, size: number): Promise<number[] | "done"> {
  const res = await http.request(`/api/uploads/${s.videoId}`, { token: s.uploadToken });
  const body = await readJson(res);
  if (res.status !== 200) throw errorFrom(res.status, body);
  if (body.status === "uploading") return body.received as number[];
  if (["processing", "ready", "failed"].includes(body.status) && body.size === size) return "done";
  throw new UploadError(409, "upload_closed", `The upload is ${body.status}.`, { status: body.status });
}

async function sendChunks(
  http: Http,
  o: UploadOptions & typeof defaults,
  s: UploadSession,
  todo: number[],
  progress: ProgressTracker,
) {
  const queue = [...todo];
  const worker = async () => {
    for (let n = queue.shift(); n !== undefined; n = queue.shift()) {
      await sendChunk(http, o, s, n);
      progress.done(n);
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.concurrency, Math.max(1, queue.length)) }, worker));
}

async function sendChunk(http: Http, o: UploadOptions, s: UploadSession, n: number): Promise<void> {
  const start = (n - 1) * s.chunkSize;
  const data = await o.file.slice(start, Math.min(o.file.size, start + s.chunkSize)).arrayBuffer();
  const digest = `sha-256=:${base64(await crypto.subtle.digest("SHA-256", data))}:`;
  const res = await http.request(`/api/uploads/${s.videoId}/chunks/${n}`, {
    method: "PUT",
    token: s.uploadToken,
    headers: { "content-digest": digest, "content-type": "application/octet-stream" },
    body: data,
    // Corruption in transit (422) and a concurrent sender (409 chunk_in_progress) are worth a retry.
    retryOn: (status, code) => status === 422 || code === "chunk_in_progress",
  });
  const body = await readJson(res);
  if (res.status !== 200) throw errorFrom(res.status, body);
}

type RequestSpec = {
  method?: string;
  token?: string;
  json?: unknown;
  body?: BodyInit;
  headers?: Record<string, string>;
  retryOn?: (status: number, code: string | undefined) => boolean;
};

/** fetch with retries: network errors, 408, 429 and 5xx always; more when the caller says. */
class Http {
  private readonly o: UploadOptions & typeof defaults;
  private readonly fetch: typeof fetch;
  constructor(o: UploadOptions & typeof defaults) {
    this.o = o;
    this.fetch = o.fetch ?? globalThis.fetch.bind(globalThis);
  }

  async request(path: string, spec: RequestSpec = {}): Promise<Response> {
    const url = new URL(path, this.o.endpoint).toString();
    const headers: Record<string, string> = { ...spec.headers };
    if (spec.token) headers.authorization = `Bearer ${spec.token}`;
    if (spec.json !== undefined) headers["content-type"] = "application/json";
    const body = spec.json !== undefined ? JSON.stringify(spec.json) : spec.body;
    for (let attempt = 1; ; attempt++) {
      let retryAfterSec: number | undefined;
      try {
        const res = await this.fetch(url, { method: spec.method ?? "GET", headers, body, signal: this.o.signal });
        const retryable =
          res.status === 408 ||
          res.status === 429 ||
          res.status >= 500 ||
          (spec.retryOn !== undefined && res.status >= 400 && spec.retryOn(res.status, await errorCode(res)));
        if (!retryable || attempt >= this.o.maxAttempts) return res;
        retryAfterSec = Number(res.headers.get("retry-after")) || undefined;
        await res.body?.cancel();
      } catch (err) {
        if (this.o.signal?.aborted || attempt >= this.o.maxAttempts) throw err;
      }
      await sleep(backoffMs(attempt, retryAfterSec), this.o.signal);
    }
  }
}

async function errorCode(res: Response): Promise<string | undefined> {
  try {
    return ((await res.clone().json()) as { error?: { code?: string } }).error?.code;
  } catch {
    return undefined;
  }
}

/** Exponential backoff with full jitter, capped at 30 s, or the server's Retry-After. */
export function backoffMs(attempt: number, retryAfterSec?: number): number {
  if (retryAfterSec !== undefined) return Math.min(retryAfterSec, 60) * 1000;
  const cap = Math.min(30_000, 250 * 2 ** attempt);
  return cap / 2 + Math.random() * (cap / 2);
}

class ProgressTracker {
  private readonly have: Set<number>;
  private readonly s: UploadSession;
  private readonly size: number;
  private readonly report?: (p: UploadProgress) => void;
  constructor(s: UploadSession, size: number, received: number[], report?: (p: UploadProgress) => void) {
    this.s = s;
    this.size = size;
    this.have = new Set(received);
    this.report = report;
    this.emit();
  }
  missing(): number[] {
    return Array.from({ length: this.s.totalChunks }, (_, i) => i + 1).filter((n) => !this.have.has(n));
  }
  done(n: number) {
    this.have.add(n);
    this.emit();
  }
  forget(ns: number[]) {
    for (const n of ns) this.have.delete(n);
  }
  private emit() {
    const last = this.size - this.s.chunkSize * (this.s.totalChunks - 1);
    let bytes = 0;
    for (const n of this.have) bytes += n === this.s.totalChunks ? last : this.s.chunkSize;
    this.report?.({
      uploadedBytes: bytes,
      totalBytes: this.size,
      chunksDone: this.have.size,
      totalChunks: this.s.totalChunks,
    });
  }
}

/** The JSON body, or {} when a proxy or crash answered with something else. */
// biome-ignore lint/suspicious/noExplicitAny: callers read the fields of the contract they asked for
async function readJson(res: Response): Promise<any> {
  try {
    return await res.json();
  } catch {
    return {};
  }
}

function errorFrom(status: number, body: { error?: { code?: string; message?: string } }): UploadError {
  const e = body?.error ?? {};
  const { code, message, ...details } = e;
  return new UploadError(status, code ?? "http_error", message ?? `HTTP ${status}`, details);
}

function base64(buf: ArrayBuffer): string {
  const bytes = new Uint8Array(buf);
  let binary = "";
  for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
  return btoa(binary);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

/**
 * Reelay's upload client, for browsers and Node alike (web-standard `fetch`,
 * `Blob`, `crypto.subtle` only).
 *
 * create (or resume from `GET /api/uploads/:id`) → chunk PUTs in parallel,
 * each with its SHA-256 as `Content-Digest` → retries with backoff → complete.
 * A dropped connection costs only the chunk in flight; after a crash, pass
 * `resume` and only the chunks the server lacks are sent.
 */

import type { ErrorCode } from "../../worker/contracts/errors.ts";
import type {
  ChunkReceipt,
  Completion,
  CreateUpload,
  UploadCreated,
  UploadStatus,
} from "../../worker/contracts/upload.ts";
import type { VideoStatus } from "../../worker/contracts/vocabulary.ts";
import { ApiError, type RequestSpec, request } from "./http.ts";

export type UploadProgress = {
  uploadedBytes: number;
  totalBytes: number;
  chunksDone: number;
  totalChunks: number;
};

/**
 * What is uploaded: a browser's `File` or `Blob`, or a file on disk read by
 * position (web/cli/file-source.ts); only its size, its type and its bytes by range are used.
 */
export type UploadFile = {
  readonly size: number;
  readonly type: string;
  slice(start: number, end: number): { arrayBuffer(): Promise<ArrayBuffer> };
};

export type UploadSession = Pick<UploadCreated, "videoId" | "uploadToken" | "chunkSize" | "totalChunks">;

/** `title`, `description`, `tags`, `visibility` and the preferred `chunkSize` go to the server as given. */
export type UploadOptions = Pick<CreateUpload, "title" | "description" | "tags" | "visibility" | "chunkSize"> & {
  /** Base URL of the Reelay worker, e.g. `http://localhost:8787`. */
  endpoint: string;
  file: UploadFile;
  filename: string;
  contentType?: string;
  /** Chunks in flight at once. */
  concurrency?: number;
  /** Attempts per request before giving up. */
  maxAttempts?: number;
  /** The uploader credential (`UPLOADER_TOKEN`), when the server requires one to create uploads. */
  uploaderToken?: string;
  /**
   * A direct creator upload's capability (the `direct` of its `uploadUrl`):
   * creates the link's one upload with it instead of the uploader credential.
   */
  direct?: string;
  /** Continue an upload created earlier instead of creating one. */
  resume?: { videoId: string; uploadToken: string };
  /** Called once the upload exists: persist it to resume after a crash. */
  onSession?: (session: UploadSession) => void;
  onProgress?: (progress: UploadProgress) => void;
  signal?: AbortSignal;
  fetch?: typeof fetch;
};

/** The video, its owner's token, and its status once the upload completed. */
export type UploadResult = Pick<UploadCreated, "videoId" | "uploadToken"> & Pick<Completion, "status">;

const defaults = { concurrency: 4, maxAttempts: 8 };
type Options = UploadOptions & typeof defaults;

/**
 * Fails with an `ApiError` (see ./http.ts), whose `code` says whether resuming
 * can help, or with the abort's reason when `signal` stops it.
 */
export async function upload(options: UploadOptions): Promise<UploadResult> {
  const o: Options = { ...defaults, ...options };
  const session = o.resume ? await resumeSession(o) : await createSession(o);
  o.onSession?.(session);
  const { videoId, uploadToken } = session;

  const received = o.resume ? await receivedChunks(o, session) : [];
  if (received === "done") return { videoId, uploadToken, status: "processing" };
  const progress = new ProgressTracker(session, o.file.size, received, o.onProgress);

  for (let round = 0; ; round++) {
    await sendChunks(o, session, progress.missing(), progress);
    try {
      const { status } = await send<Completion>(o, `/api/uploads/${videoId}/complete`, {
        method: "POST",
        token: uploadToken,
      });
      return { videoId, uploadToken, status };
    } catch (err) {
      // The server lost track of a chunk (rare): send those again and retry.
      if (!(err instanceof ApiError && err.code === "missing_chunks" && round < 3)) throw err;
      progress.forget(err.details.missing as number[]);
    }
  }
}

async function createSession(o: Options): Promise<UploadSession> {
  const created: CreateUpload = {
    filename: o.filename,
    size: o.file.size,
    contentType: o.contentType || o.file.type || "application/octet-stream",
    title: o.title,
    description: o.description,
    tags: o.tags,
    visibility: o.visibility,
    chunkSize: o.chunkSize,
  };
  // A direct link is the credential: the uploader's is never sent with it.
  const path = o.direct === undefined ? "/api/uploads" : `/api/uploads?direct=${encodeURIComponent(o.direct)}`;
  const token = o.direct === undefined ? o.uploaderToken : undefined;
  return send<UploadCreated>(o, path, { method: "POST", token, json: created });
}

async function resumeSession(o: Options): Promise<UploadSession> {
  const { videoId, uploadToken } = o.resume!;
  const status = await send<UploadStatus>(o, `/api/uploads/${videoId}`, { token: uploadToken });
  if (status.size !== o.file.size) {
    throw new ApiError("file_mismatch", `This upload expects ${status.size} bytes; the file has ${o.file.size}.`, {
      details: { expectedBytes: status.size, actualBytes: o.file.size },
    });
  }
  return { videoId, uploadToken, chunkSize: status.chunkSize, totalChunks: status.totalChunks };
}

async function receivedChunks(o: Options, s: UploadSession): Promise<number[] | "done"> {
  const status = await send<UploadStatus>(o, `/api/uploads/${s.videoId}`, { token: s.uploadToken });
  if (status.status === "uploading") return status.received;
  if (FINISHED.includes(status.status) && status.size === o.file.size) return "done";
  throw new ApiError("upload_closed", `The upload is ${status.status}.`, { details: { status: status.status } });
}

/** Statuses of an upload whose every byte arrived. */
const FINISHED: VideoStatus[] = ["processing", "ready", "failed"];

async function sendChunks(o: Options, s: UploadSession, todo: number[], progress: ProgressTracker) {
  const queue = [...todo];
  const worker = async () => {
    for (let n = queue.shift(); n !== undefined; n = queue.shift()) {
      await sendChunk(o, s, n);
      progress.done(n);
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.concurrency, Math.max(1, queue.length)) }, worker));
}

/** Refusals worth sending a chunk again for: corruption in transit, and a concurrent sender. */
const CHUNK_RETRY_CODES: ErrorCode[] = ["digest_mismatch", "chunk_in_progress"];

async function sendChunk(o: Options, s: UploadSession, n: number): Promise<void> {
  const start = (n - 1) * s.chunkSize;
  const data = await o.file.slice(start, Math.min(o.file.size, start + s.chunkSize)).arrayBuffer();
  const digest = `sha-256=:${base64(await crypto.subtle.digest("SHA-256", data))}:`;
  await send<ChunkReceipt>(
    o,
    `/api/uploads/${s.videoId}/chunks/${n}`,
    {
      method: "PUT",
      token: s.uploadToken,
      headers: { "content-digest": digest, "content-type": "application/octet-stream" },
      body: data,
    },
    (err) => CHUNK_RETRY_CODES.includes(err.code),
  );
}

/**
 * `request` with retries: no answer, 408, 429 and 5xx (proxies send those
 * without Reelay's error body, so the status is all there is to go on),
 * except a 429 `upload_quota_exceeded`; more when the caller says.
 */
async function send<T>(
  o: Options,
  path: string,
  spec: RequestSpec,
  retryAlso: (err: ApiError) => boolean = () => false,
): Promise<T> {
  const url = new URL(path, o.endpoint).toString();
  for (let attempt = 1; ; attempt++) {
    try {
      return await request<T>(url, { ...spec, signal: o.signal, fetch: o.fetch });
    } catch (err) {
      const retryable =
        err instanceof ApiError &&
        (err.code === "network_error" ||
          err.status === 408 ||
          // A quota is not a rate: waiting does not free reserved bytes.
          (err.status === 429 && err.code !== "upload_quota_exceeded") ||
          err.status >= 500 ||
          retryAlso(err));
      if (!retryable || attempt >= o.maxAttempts) throw err;
      await sleep(backoffMs(attempt, err.retryAfterSec), o.signal);
    }
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

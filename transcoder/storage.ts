/**
 * Moving bytes to and from the Reelay worker: stream the source down, PUT the
 * outputs up, POST callbacks. Files are streamed from disk, never held in
 * memory (sources can be tens of gigabytes). A `409 job_superseded` from the
 * worker means another attempt owns the video now; that is not an error to
 * retry but a reason to stop. Any other refusal, 409s included, is a failure.
 */
import { createReadStream, createWriteStream } from "node:fs";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { type ErrorCode, errorCodeOf } from "../worker/contracts/errors.ts";
import { abortError } from "./errors.ts";

export class SupersededError extends Error {
  constructor(what: string) {
    super(`${what} answered 409 job_superseded: the job was superseded`);
    this.name = "SupersededError";
  }
}

export class HttpError extends Error {
  readonly status: number;
  /** The worker's error code, when the answer carried one. */
  readonly code: ErrorCode | null;
  constructor(what: string, status: number, code: ErrorCode | null = null) {
    super(`${what} answered HTTP ${status}${code ? ` (${code})` : ""}`);
    this.name = "HttpError";
    this.status = status;
    this.code = code;
  }
}

/**
 * The `error.code` of a refusal: only 4xx answers carry the worker's small
 * JSON error body; null when there is none (a 5xx, a proxy's page).
 */
async function refusalCode(response: Response): Promise<ErrorCode | null> {
  if (response.status < 400 || response.status >= 500) {
    await response.body?.cancel();
    return null;
  }
  const code = errorCodeOf(await response.json().catch(() => null));
  return code === "http_error" ? null : code;
}

const RETRIES = 5;
const BACKOFF_MS = 250;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(abortError(signal));
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(signal));
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Sends a request, retrying network errors and 5xx (up to 5 more times, with
 * exponential backoff and jitter). `409 job_superseded` throws
 * SupersededError at once; other non-2xx throw HttpError.
 */
export async function request(
  what: string,
  send: () => Promise<Response>,
  signal: AbortSignal,
  retries = RETRIES,
): Promise<Response> {
  for (let attempt = 0; ; attempt++) {
    let failure: unknown;
    try {
      const response = await send();
      if (response.ok) return response;
      const code = await refusalCode(response);
      if (response.status === 409 && code === "job_superseded") throw new SupersededError(what);
      failure = new HttpError(what, response.status, code);
      if (response.status < 500) throw failure;
    } catch (error) {
      if (signal.aborted) throw abortError(signal);
      if (error instanceof SupersededError || error instanceof HttpError) throw error;
      failure = error;
    }
    if (attempt >= retries) throw failure;
    await sleep(BACKOFF_MS * 2 ** attempt * (0.75 + Math.random() / 2), signal);
  }
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** Streams the source to `dest`; `onBytes` gets (received, total or null). */
export async function downloadSource(
  url: string,
  token: string,
  dest: string,
  signal: AbortSignal,
  onBytes?: (received: number, total: number | null) => void,
): Promise<number> {
  const response = await request("GET source", () => fetch(url, { headers: bearer(token), signal }), signal);
  if (!response.body) throw new Error("GET source returned no body");
  const length = Number(response.headers.get("content-length"));
  const total = Number.isFinite(length) && length > 0 ? length : null;
  let received = 0;
  await pipeline(
    Readable.fromWeb(response.body as import("node:stream/web").ReadableStream<Uint8Array>),
    async function* (chunks: AsyncIterable<Uint8Array>) {
      for await (const chunk of chunks) {
        received += chunk.length;
        onBytes?.(received, total);
        yield chunk;
      }
    },
    createWriteStream(dest),
    { signal },
  );
  if (total !== null && received !== total) throw new Error(`GET source ended after ${received} of ${total} bytes`);
  return received;
}

export function contentType(path: string): string {
  if (path.endsWith(".m3u8")) return "application/vnd.apple.mpegurl";
  if (path.endsWith(".m4s") || path.endsWith(".mp4")) return "video/mp4";
  if (path.endsWith(".jpg")) return "image/jpeg";
  return "application/octet-stream";
}

export type Destination = { uploadBaseUrl: string; token: string; signal: AbortSignal };

export async function uploadFile(dest: Destination, workDir: string, relative: string): Promise<void> {
  const local = join(workDir, relative);
  const { size } = await stat(local);
  const url = `${dest.uploadBaseUrl.replace(/\/+$/, "")}/${relative.split("/").map(encodeURIComponent).join("/")}`;
  const send = () => {
    // A fresh stream per attempt; Content-Length so storage knows the size up front.
    const body = Readable.toWeb(createReadStream(local)) as unknown as BodyInit;
    const init: RequestInit & { duplex: "half" } = {
      method: "PUT",
      headers: { ...bearer(dest.token), "content-type": contentType(relative), "content-length": String(size) },
      body,
      duplex: "half",
      signal: dest.signal,
    };
    return fetch(url, init);
  };
  await request(`PUT ${relative}`, send, dest.signal);
}

const PARALLEL_UPLOADS = 4;

/**
 * Uploads one publish step. Segments, init segments and the poster go up in
 * parallel; playlists follow one by one in the given order, so no playlist is
 * visible before the files it names, and master.m3u8 (last) before its playlists.
 */
export async function uploadFiles(dest: Destination, workDir: string, files: string[]): Promise<void> {
  const media = files.filter((f) => !f.endsWith(".m3u8"));
  const playlists = files.filter((f) => f.endsWith(".m3u8"));
  let next = 0;
  let failed = false;
  const worker = async () => {
    try {
      while (next < media.length && !failed) await uploadFile(dest, workDir, media[next++]);
    } catch (error) {
      failed = true;
      throw error;
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_UPLOADS, media.length) }, worker));
  for (const playlist of playlists) await uploadFile(dest, workDir, playlist);
}

export async function postJson(
  url: string,
  token: string,
  body: unknown,
  signal: AbortSignal,
  retries = RETRIES,
): Promise<void> {
  const send = () =>
    fetch(url, {
      method: "POST",
      headers: { ...bearer(token), "content-type": "application/json" },
      body: JSON.stringify(body),
      signal,
    });
  await request(`POST callback`, send, signal, retries);
}

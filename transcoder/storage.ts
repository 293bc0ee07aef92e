/**
 * Moving bytes to and from the Reelay worker: PUT the outputs up, POST
 * callbacks, and for a package task GET the job's own files (ffmpeg reads
 * the source itself, by range: input-formats.ts). Files are streamed from
 * and to disk, never held in memory. A `409 job_superseded` from the
 * worker means another attempt owns the video now, and a `401` that the
 * job's token is no longer good: neither is an error to retry but a reason to
 * stop. Any other refusal, 409s included, is a failure.
 *
 * Redirects are never followed (a job's URLs all lie under the worker, and
 * a redirect could lead anywhere), and a transfer that moves no byte for
 * `stallMs` fails: a peer that never answers must not hold a slot for ever.
 */
import { createReadStream } from "node:fs";
import { type FileHandle, stat } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { type ErrorCode, errorCodeOf } from "../worker/contracts/errors.ts";
import { abortError } from "./errors.ts";

/** The worker will take nothing more from this job: stop it and send nothing more. */
export class WithdrawnError extends Error {
  readonly why: "superseded" | "unauthorized";
  constructor(what: string, why: "superseded" | "unauthorized", code: ErrorCode | null = null) {
    super(
      why === "superseded"
        ? `${what} answered 409 job_superseded: the job was superseded`
        : `${what} answered 401${code ? ` ${code}` : ""}: the job's token is not accepted`,
    );
    this.name = "WithdrawnError";
    this.why = why;
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

/** A transfer that moved no byte for too long. */
export class StalledError extends Error {
  constructor(what: string, ms: number) {
    super(`${what} made no progress for ${Math.round(ms / 100) / 10} s`);
    this.name = "StalledError";
  }
}

/** How one job talks to the worker. */
export type Transfer = {
  token: string;
  signal: AbortSignal;
  /** A transfer that moves no byte for this long fails. */
  stallMs: number;
  /** Called whenever bytes move (downloaded, or read from disk to upload): the job's sign of life. */
  onActivity?: () => void;
};

/** An AbortSignal that fires when `touch` has not been called for `ms`, or when `parent` aborts. */
export type StallWatch = { signal: AbortSignal; touch(): void; stop(): void; stalled(): StalledError | null };

export function stallWatch(what: string, ms: number, parent: AbortSignal): StallWatch {
  const controller = new AbortController();
  let stalled: StalledError | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const onParent = () => controller.abort(abortError(parent));
  parent.addEventListener("abort", onParent, { once: true });
  const touch = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      stalled = new StalledError(what, ms);
      controller.abort(stalled);
    }, ms);
  };
  touch();
  return {
    signal: controller.signal,
    touch,
    stop() {
      clearTimeout(timer);
      parent.removeEventListener("abort", onParent);
    },
    stalled: () => stalled,
  };
}

/**
 * The `error.code` of a refusal: only 4xx answers carry the worker's small
 * JSON error body; null when there is none (a 5xx, a redirect, a proxy's page).
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
 * exponential backoff and jitter); each attempt has its own stall watch,
 * which `send` uses as its signal and touches as its body moves. A 2xx
 * answer comes back with its watch still running, for the caller to read
 * the body under and stop. `409 job_superseded` and 401 throw
 * WithdrawnError at once; a stall throws StalledError, other non-2xx
 * (redirects included) HttpError, without retrying.
 */
async function watchedRequest(
  what: string,
  send: (watch: StallWatch) => Promise<Response>,
  transfer: Transfer,
  retries: number,
): Promise<{ response: Response; watch: StallWatch }> {
  const { signal } = transfer;
  for (let attempt = 0; ; attempt++) {
    let failure: unknown;
    const watch = stallWatch(what, transfer.stallMs, signal);
    try {
      const response = await send(watch);
      watch.touch();
      if (response.ok) return { response, watch };
      watch.stop();
      const code = await refusalCode(response);
      if (response.status === 409 && code === "job_superseded") throw new WithdrawnError(what, "superseded");
      if (response.status === 401) throw new WithdrawnError(what, "unauthorized", code);
      failure = new HttpError(what, response.status, code);
      if (response.status < 500) throw failure;
    } catch (error) {
      watch.stop();
      if (signal.aborted) throw abortError(signal);
      if (watch.stalled()) throw watch.stalled();
      if (error instanceof WithdrawnError || error instanceof HttpError) throw error;
      failure = error;
    }
    if (attempt >= retries) throw failure;
    await sleep(BACKOFF_MS * 2 ** attempt * (0.75 + Math.random() / 2), signal);
  }
}

/** `watchedRequest` for requests whose answer body does not matter. */
export async function request(
  what: string,
  send: (watch: StallWatch) => Promise<Response>,
  transfer: Transfer,
  retries = RETRIES,
): Promise<void> {
  const { response, watch } = await watchedRequest(what, send, transfer, retries);
  watch.stop();
  await response.body?.cancel();
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/**
 * One request for the source's first byte: whether this job may still read
 * it, and if not why, in the terms the rest of the job understands
 * (WithdrawnError, HttpError, a stall). ffmpeg, which reads the source
 * itself, can only say that it could not.
 */
export async function checkSource(url: string, transfer: Transfer): Promise<void> {
  const send = (watch: StallWatch) =>
    fetch(url, {
      headers: { ...bearer(transfer.token), range: "bytes=0-0" },
      redirect: "manual",
      signal: watch.signal,
    });
  await request("GET source", send, transfer);
}

export function contentType(path: string): string {
  if (path.endsWith(".m3u8")) return "application/vnd.apple.mpegurl";
  if (path.endsWith(".m4s") || path.endsWith(".mp4")) return "video/mp4";
  if (path.endsWith(".m4a")) return "audio/mp4";
  if (path.endsWith(".jpg")) return "image/jpeg";
  return "application/octet-stream";
}

export type Destination = Transfer & { uploadBaseUrl: string };

/** A file's bytes (or `text`, when given) as a request body, touching `watch` as each chunk leaves. */
async function* fileBody(
  path: string,
  text: Uint8Array | undefined,
  watch: StallWatch,
  onActivity?: () => void,
): AsyncGenerator<Uint8Array> {
  for await (const chunk of text ? [text] : (createReadStream(path) as AsyncIterable<Buffer>)) {
    watch.touch();
    onActivity?.();
    yield chunk;
  }
}

/** PUTs a file of the work dir, or `text` under its name (a playlist as it was when read). */
export async function uploadFile(dest: Destination, workDir: string, relative: string, text?: string): Promise<void> {
  const local = join(workDir, relative);
  const bytes = text === undefined ? undefined : new TextEncoder().encode(text);
  const size = bytes ? bytes.length : (await stat(local)).size;
  const url = `${dest.uploadBaseUrl.replace(/\/+$/, "")}/${relative.split("/").map(encodeURIComponent).join("/")}`;
  const send = (watch: StallWatch) => {
    // A fresh stream per attempt; Content-Length so storage knows the size up front.
    const body = Readable.toWeb(Readable.from(fileBody(local, bytes, watch, dest.onActivity))) as unknown as BodyInit;
    const init: RequestInit & { duplex: "half" } = {
      method: "PUT",
      headers: { ...bearer(dest.token), "content-type": contentType(relative), "content-length": String(size) },
      body,
      duplex: "half",
      redirect: "manual",
      signal: watch.signal,
    };
    return fetch(url, init);
  };
  await request(`PUT ${relative}`, send, dest);
}

const PARALLEL_UPLOADS = 4;

/**
 * Uploads files of one publish step. Segments, init segments and the poster
 * go up in parallel; playlists follow one by one in the given order, so no
 * playlist is visible before the files it names, and master.m3u8 (last)
 * before its playlists. `texts` holds what to send for a path instead of the file.
 */
export async function uploadFiles(
  dest: Destination,
  workDir: string,
  files: string[],
  texts?: Map<string, string>,
): Promise<void> {
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
  for (const playlist of playlists) await uploadFile(dest, workDir, playlist, texts?.get(playlist));
}

export async function postJson(url: string, transfer: Transfer, body: unknown, retries = RETRIES): Promise<void> {
  const send = (watch: StallWatch) =>
    fetch(url, {
      method: "POST",
      headers: { ...bearer(transfer.token), "content-type": "application/json" },
      body: JSON.stringify(body),
      redirect: "manual",
      signal: watch.signal,
    });
  await request(`POST callback`, send, transfer, retries);
}

/** A file of the job, as text (a playlist): small, read whole. */
export async function fetchText(url: string, what: string, transfer: Transfer): Promise<string> {
  const send = (watch: StallWatch) =>
    fetch(url, { headers: bearer(transfer.token), redirect: "manual", signal: watch.signal });
  const { response, watch } = await watchedRequest(`GET ${what}`, send, transfer, RETRIES);
  try {
    return await response.text();
  } finally {
    watch.stop();
  }
}

/**
 * A file of the job written into `out` from byte `at`, streamed; its size.
 * A transfer cut off midway is asked for again (as a request that failed
 * would be) and written again from `at`, so what a broken try left is
 * overwritten, never appended to.
 */
export async function fetchInto(
  url: string,
  what: string,
  transfer: Transfer,
  out: FileHandle,
  at: number,
): Promise<number> {
  const send = (watch: StallWatch) =>
    fetch(url, { headers: bearer(transfer.token), redirect: "manual", signal: watch.signal });
  for (let attempt = 0; ; attempt++) {
    const { response, watch } = await watchedRequest(`GET ${what}`, send, transfer, RETRIES);
    let written = 0;
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        watch.touch();
        transfer.onActivity?.();
        await out.write(chunk, 0, chunk.length, at + written);
        written += chunk.length;
      }
      return written;
    } catch (error) {
      if (transfer.signal.aborted) throw abortError(transfer.signal);
      if (watch.stalled()) throw watch.stalled();
      if (attempt >= RETRIES) throw error;
    } finally {
      watch.stop();
    }
    await sleep(BACKOFF_MS * 2 ** attempt * (0.75 + Math.random() / 2), transfer.signal);
  }
}

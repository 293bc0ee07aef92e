/**
 * The import queue's consumer (`reelay-import`): fetches an import's URL and
 * streams the file into the video's chunks (uploads/chunk-run.ts), as a
 * client of our API would send them, then completes the upload, which
 * queues it for processing.
 *
 * Every recorded chunk stays recorded, so a fetch that breaks off (a reset
 * connection, an invocation that ran out of time) is retried from the first
 * missing chunk, by `Range` when the server honours it, else from the start
 * with the chunks already stored only hashed and compared. What cannot get
 * better by trying again (no such host, a 4xx, not a video, too large, no
 * size, a compressed body) fails the video at once with the reason.
 */
import { z } from "zod";
import { readConfig } from "../config.ts";
import { declaredType, notAVideoReason } from "../contracts/source-types.ts";
import { ApiError, unwrap } from "../http/errors.ts";
import { videoObject } from "../video-object/stub.ts";
import { backoffSeconds } from "../video-object/transcode-queue.ts";
import type { ImportState } from "../video-object/upload.ts";
import type { Refusal } from "../video-object/outcome.ts";
import { contiguousBytes } from "../uploads/chunk-plan.ts";
import { ByteCutter, storeChunkRun } from "../uploads/chunk-run.ts";
import { checkImportUrl, importFilename } from "./import-url.ts";

export const ImportMessageSchema = z.object({ videoId: z.string() });
export type ImportMessage = z.infer<typeof ImportMessageSchema>;

/**
 * Tries in a row that store nothing before an import fails with the last
 * reason. A try that stored chunks before it broke off starts the count
 * again (the next try is a new message), so a long file from a server that
 * keeps dropping the connection still arrives, while one that never sends a
 * chunk fails within minutes.
 */
const IMPORT_TRIES = 6;
const MAX_REDIRECTS = 5;

/** The import cannot succeed by trying again: the video fails with this message. */
class ImportFailure extends Error {}

export async function consumeImports(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  for (const msg of batch.messages) {
    const parsed = ImportMessageSchema.safeParse(msg.body);
    if (!parsed.success) {
      console.error("dropping a malformed import message", parsed.error.issues);
      msg.ack();
      continue;
    }
    const { videoId } = parsed.data;
    const video = videoObject(env, videoId);
    const state = await video.importState();
    if (state?.status !== "importing") {
      msg.ack(); // Imported, failed, aborted or deleted: nothing to do.
      continue;
    }
    try {
      await importVideo(env, videoId, state);
      msg.ack();
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      if (err instanceof ImportFailure) {
        await video.failImport(reason);
        msg.ack();
      } else if (await storedMore(video, state)) {
        console.warn(`import of ${videoId} broke off after storing chunks; it goes on: ${reason}`);
        await env.IMPORT_QUEUE.send({ videoId } satisfies ImportMessage, { delaySeconds: backoffSeconds(1) });
        msg.ack();
      } else if (msg.attempts >= IMPORT_TRIES) {
        await video.failImport(`The import failed after ${msg.attempts} tries: ${reason}`);
        msg.ack();
      } else {
        console.warn(`import of ${videoId} broke off (try ${msg.attempts}): ${reason}`);
        msg.retry({ delaySeconds: backoffSeconds(msg.attempts) });
      }
    }
  }
}

type Video = ReturnType<typeof videoObject>;

/** Whether the try that began at `before` recorded chunks; false when the object cannot say. */
async function storedMore(video: Video, before: ImportState): Promise<boolean> {
  const after = await video.importState().catch(() => undefined);
  return after !== undefined && after.received.length > before.received.length;
}

/** One try: from the first chunk still missing to the end of the file, then completion. */
async function importVideo(env: Env, videoId: string, state: ImportState): Promise<void> {
  const video = videoObject(env, videoId);
  const config = readConfig(env);
  // At the first chunk not yet recorded (0 before the import is sized).
  const from = contiguousBytes(state, state.received);
  const res = await fetchFollowing(
    state.url,
    config.allowHttpImports,
    // The file as stored: a compressed answer's length is not the file's (Workers decode it on the way).
    { "Accept-Encoding": "identity", ...(from > 0 ? { Range: `bytes=${from}-` } : {}) },
    state.size === 0,
  );
  let file: RemoteFile;
  try {
    file = describeFile(res, state.url, from);
  } catch (err) {
    await res.body?.cancel();
    throw err;
  }
  if (file.size > config.maxImportBytes) {
    await res.body?.cancel();
    throw new ImportFailure(
      `The file at the URL has ${file.size} bytes; imports take at most ${config.maxImportBytes}.`,
    );
  }
  const notVideo = notAVideoReason(importedType(file));
  if (notVideo) {
    await res.body?.cancel();
    throw new ImportFailure(`The URL does not serve a video (${file.contentType}). ${notVideo}`);
  }
  const sized = await video.sizeImport({ size: file.size, contentType: file.contentType, filename: file.filename });
  if (!sized.ok) {
    await res.body?.cancel();
    const refusal = sized as unknown as Refusal;
    // The file changed size, or its client's unfinished uploads and imports would pass their cap.
    if (refusal.code === "changed" || refusal.code === "upload_quota_exceeded")
      throw new ImportFailure(refusal.message);
    return; // No longer importing (aborted, deleted): nothing to do.
  }
  if (!res.body) throw new Error("the server sent no body");
  const first = file.startsAt / sized.chunkSize + 1;
  try {
    await storeChunkRun(new ByteCutter(res.body), { env, videoId, access: { importer: true }, plan: sized, first });
  } catch (err) {
    // The file differs from what was stored before: trying again cannot help.
    if (err instanceof ApiError && err.code === "chunk_conflict")
      throw new ImportFailure("The file at the URL changed during the import.");
    throw err;
  }
  const after = await video.importState();
  if (after?.status !== "importing") return;
  if (after.received.length < after.totalChunks) throw new Error("the download ended before the end of the file");
  unwrap(await video.complete({ importer: true }));
}

type RemoteFile = { size: number; contentType: string; filename: string; startsAt: number };

/** Types a web server gives a page: a sign-in or error page at a video's address is still no video. */
const WEB_PAGE_TYPES = ["text/html", "application/xhtml+xml"];

/**
 * The type the file is taken to have: a web page's whatever its name, else
 * as the upload page reads a picked file (a `.ts` served as a translation
 * file, or a `.mkv` as `text/plain` by a server that does not know it, may
 * still be a video; the transcoder's probe decides).
 */
function importedType(file: RemoteFile): string {
  if (WEB_PAGE_TYPES.includes(file.contentType)) return file.contentType;
  return declaredType({ name: file.filename, type: file.contentType });
}

/**
 * What the response says of the file: its whole size (from Content-Range or
 * Content-Length), its type and name, and where its body starts (`from`
 * when the server honoured the range, 0 when it sent the whole file).
 */
function describeFile(res: Response, url: string, from: number): RemoteFile {
  const contentType = (res.headers.get("content-type") ?? "application/octet-stream")
    .split(";")[0]!
    .trim()
    .toLowerCase();
  const filename = importFilename(new URL(res.url || url), res.headers.get("content-disposition"));
  if (res.status !== 200 && res.status !== 206) {
    const reason = `The URL answered HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ""}.`;
    // A server error or a rate limit may pass; any other answer will not.
    if (res.status >= 500 || res.status === 429 || res.status === 408) throw new Error(reason);
    throw new ImportFailure(reason);
  }
  // The runtime would decode a compressed body, whose length then is not the file's (asked for identity, still sent).
  const encoding = res.headers.get("content-encoding")?.trim().toLowerCase();
  if (encoding && encoding !== "identity") {
    throw new ImportFailure(
      `The server at the URL sent the file compressed (${encoding}); an import needs it as stored, with its size.`,
    );
  }
  if (res.status === 206) {
    const range = /^bytes ([0-9]+)-[0-9]+\/([0-9]+)$/.exec(res.headers.get("content-range") ?? "");
    if (!range || Number(range[1]) !== from) throw new Error("the server answered another range than asked");
    return { size: Number(range[2]), contentType, filename, startsAt: from };
  }
  const length = res.headers.get("content-length");
  if (length === null || !/^[0-9]{1,15}$/.test(length)) {
    throw new ImportFailure(
      "The server at the URL did not say the file's size (Content-Length), which an import needs.",
    );
  }
  const size = Number(length);
  if (size === 0) throw new ImportFailure("The file at the URL is empty.");
  return { size, contentType, filename, startsAt: 0 };
}

/**
 * Fetches `url`, following at most five redirects itself so that each hop
 * is held to the import URL rules: a redirect to a plain http URL (where
 * http is not allowed), or to anything but http(s), fails the import. A
 * URL that cannot be reached at all on the first try fails it too; later,
 * once bytes have come from it, the next try may succeed.
 */
async function fetchFollowing(
  url: string,
  allowHttp: boolean,
  headers: Record<string, string>,
  firstTry: boolean,
): Promise<Response> {
  let target = url;
  for (let hop = 0; ; hop++) {
    let res: Response;
    try {
      res = await fetch(target, { redirect: "manual", headers });
    } catch (err) {
      const reason = `The URL could not be reached: ${err instanceof Error ? err.message : String(err)}.`;
      throw firstTry ? new ImportFailure(reason) : new Error(reason);
    }
    const location = res.headers.get("location");
    if (res.status < 300 || res.status >= 400 || location === null) return res;
    await res.body?.cancel();
    if (hop >= MAX_REDIRECTS) throw new ImportFailure(`The URL redirected more than ${MAX_REDIRECTS} times.`);
    const next = checkImportUrl(new URL(location, target).href, allowHttp);
    if (!next.ok) throw new ImportFailure(`The URL redirected to an address an import may not fetch: ${next.reason}`);
    target = next.url.href;
  }
}

/**
 * `/api/tus`: tus 1.0.0 (core, `creation`, `creation-with-upload`,
 * `expiration`, `termination`, `checksum`) over the same storage path as our
 * own API: a tus upload is a video's upload like any other (upload.ts), and
 * its PATCH bodies are cut into the video's chunks (chunk-run.ts), each an
 * R2 part hashed with SHA-256 on the way.
 *
 * R2 wants every part but the last to have one size, so a PATCH body must be
 * a whole number of chunks (`Reelay-Chunk-Size`) or end the file, and the
 * offset a resuming client learns from HEAD is where the stored chunks end.
 *
 * The upload's URL is its capability, as on Cloudflare Stream: video ids are
 * 100 random bits, and a tus client sends nothing else. An `Authorization:
 * Bearer <uploadToken>` is accepted too, and is the only way in to an upload
 * created by our own API.
 */
import { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import { z } from "zod";
import { readConfig } from "../config.ts";
import { createUploadSchema } from "../contracts/upload.ts";
import { VideoIdSchema } from "../contracts/video.ts";
import { decimalInt } from "../contracts/decimal-int.ts";
import { toHex } from "../crypto/encoding.ts";
import { creator } from "../http/auth.ts";
import { apiError, unwrap } from "../http/errors.ts";
import { noSuchUpload } from "../http/params.ts";
import { parse, validParams } from "../http/validate.ts";
import { videoObject } from "../video-object/stub.ts";
import type { UploadAccess, UploadSnapshot } from "../video-object/upload.ts";
import { type ChunkPlan, contiguousBytes, planChunks } from "./chunk-plan.ts";
import { ByteCutter, storeChunkRun } from "./chunk-run.ts";
import { creatingClient } from "./client.ts";
import { createUpload } from "./creation.ts";
import {
  CHUNK_SIZE_HEADER,
  type Checksum,
  httpDate,
  parseUploadChecksum,
  parseUploadMetadata,
  TUS_CHECKSUMS,
  TUS_CONTENT_TYPE,
  TUS_EXTENSIONS,
  TUS_VERSION,
  UPLOAD_TOKEN_HEADER,
} from "./tus-headers.ts";

/**
 * Every answer under `/api/tus` names the protocol version, and `OPTIONS`
 * (answered by the CORS middleware, which this wraps) says what the server
 * supports. Registered before the CORS middleware in app.ts.
 */
export const tusProtocol = createMiddleware<{ Bindings: Env }>(async (c, next) => {
  await next();
  c.header("Tus-Resumable", TUS_VERSION);
  if (c.req.method === "OPTIONS" || c.res.status === 412) c.header("Tus-Version", TUS_VERSION);
  if (c.req.method !== "OPTIONS") return;
  const config = readConfig(c.env);
  c.header("Tus-Extension", TUS_EXTENSIONS.join(","));
  c.header("Tus-Checksum-Algorithm", Object.keys(TUS_CHECKSUMS).join(","));
  c.header("Tus-Max-Size", String(config.maxUploadBytes));
  c.header(CHUNK_SIZE_HEADER, String(config.defaultChunkSize));
});

export const tus = new Hono<{ Bindings: Env }>();

tus.use("*", async (c, next) => {
  if (c.req.header("tus-resumable") !== TUS_VERSION) {
    throw apiError(
      "tus_version_unsupported",
      `This server speaks tus ${TUS_VERSION}: send \`Tus-Resumable: ${TUS_VERSION}\`.`,
    );
  }
  await next();
});

tus.post("/", creator, creatingClient, async (c) => {
  const config = readConfig(c.env);
  if (c.req.header("upload-defer-length") !== undefined) {
    throw apiError("invalid_request", "`Upload-Defer-Length` is not supported: send `Upload-Length`.");
  }
  const lengthHeader = c.req.header("upload-length");
  if (lengthHeader === undefined) throw apiError("invalid_request", "Send the file's size as `Upload-Length`.");
  const size = parse(decimalInt(1).describe("Upload-Length"), lengthHeader);
  if (size > config.maxUploadBytes) {
    throw apiError("payload_too_large", `An upload is at most ${config.maxUploadBytes} bytes (Tus-Max-Size).`);
  }
  const metadata = parseUploadMetadata(c.req.header("upload-metadata"));
  const filename = metadata.get("filename") || metadata.get("name") || "video";
  const request = parse(createUploadSchema(config.maxUploadBytes), {
    filename,
    size,
    contentType: metadata.get("filetype") || metadata.get("type") || "application/octet-stream",
    title: metadata.get("title") || undefined,
    description: metadata.get("description"),
    tags: metadata
      .get("tags")
      ?.split(",")
      .map((t) => t.trim())
      .filter(Boolean),
    visibility: metadata.get("visibility") || undefined,
  });
  // creation-with-upload: the body is refused before anything is created if its length cannot fit the chunks.
  const withBody = c.req.header("content-type") === TUS_CONTENT_TYPE;
  const declared = withBody ? declaredLength(c.req.header("content-length")) : null;
  const checksum = withBody ? parseUploadChecksum(c.req.header("upload-checksum")) : undefined;
  if (declared !== null) checkBodyLength(planChunks(size, config.defaultChunkSize), 0, declared);
  const requester = { clientKey: c.var.clientKey, direct: c.var.direct };
  const { videoId, uploadToken, snapshot } = await createUpload(c.env, request, requester, "tus");

  let state = snapshot;
  if (withBody && c.req.raw.body && declared !== 0) {
    try {
      state = await receive(c.env, videoId, { tusUrl: true }, snapshot, c.req.raw.body, checksum);
    } catch (err) {
      // A body that does not match its checksum leaves nothing behind, not even the upload.
      if ((err as { code?: string }).code === "checksum_mismatch") {
        await videoObject(c.env, videoId).abort({ tusUrl: true });
        throw err;
      }
      // Otherwise the upload stands, with what arrived: the client resumes from Upload-Offset.
      state = unwrap(await videoObject(c.env, videoId).describe({ tusUrl: true })).snapshot;
    }
  }
  return c.body(null, 201, {
    Location: `/api/tus/${videoId}`,
    ...uploadHeaders(state),
    [UPLOAD_TOKEN_HEADER]: uploadToken,
  });
});

const videoParam = validParams(z.object({ videoId: VideoIdSchema }), noSuchUpload);

// Hono routes a HEAD request as GET (and drops the body it answers), so HEAD
// is registered as GET; a real GET is not part of tus.
tus.get("/:videoId", videoParam, async (c) => {
  if (c.req.method !== "HEAD") throw apiError("method_not_allowed", "An upload's URL takes HEAD, PATCH and DELETE.");
  const { videoId } = c.req.valid("param");
  const snapshot = await current(c.env, videoId, access(c.req.header("authorization")));
  return c.body(null, 200, { ...uploadHeaders(snapshot), "Cache-Control": "no-store" });
});

tus.patch("/:videoId", videoParam, async (c) => {
  const { videoId } = c.req.valid("param");
  if (c.req.header("content-type") !== TUS_CONTENT_TYPE) {
    throw apiError("wrong_content_type", `A PATCH body must be sent as \`Content-Type: ${TUS_CONTENT_TYPE}\`.`);
  }
  const offsetHeader = c.req.header("upload-offset");
  if (offsetHeader === undefined)
    throw apiError("invalid_request", "Send the offset the body starts at as `Upload-Offset`.");
  const offset = parse(decimalInt(0).describe("Upload-Offset"), offsetHeader);
  const declared = declaredLength(c.req.header("content-length"));
  const checksum = parseUploadChecksum(c.req.header("upload-checksum"));
  const who = access(c.req.header("authorization"));
  const snapshot = await current(c.env, videoId, who);
  if (snapshot.status !== "uploading") {
    throw apiError("upload_closed", `The upload is ${snapshot.status}; it takes no more bytes.`, {
      status: snapshot.status,
    });
  }
  const stored = contiguousBytes(snapshot, snapshot.received);
  if (offset !== stored) {
    throw apiError("offset_mismatch", `The upload continues at offset ${stored}, not ${offset}.`, { offset: stored });
  }
  if (declared !== null) checkBodyLength(snapshot, offset, declared);
  const body = c.req.raw.body;
  const state = body && declared !== 0 ? await receive(c.env, videoId, who, snapshot, body, checksum) : snapshot;
  return c.body(null, 204, uploadHeaders(state));
});

tus.delete("/:videoId", videoParam, async (c) => {
  const { videoId } = c.req.valid("param");
  const who = access(c.req.header("authorization"));
  await current(c.env, videoId, who);
  unwrap(await videoObject(c.env, videoId).abort(who));
  return c.body(null, 204);
});

/** The upload token when one is sent; otherwise the URL alone, which opens only uploads tus created. */
function access(authorization: string | undefined): UploadAccess {
  const token = /^Bearer[ \t]+(\S{1,512})[ \t]*$/i.exec(authorization ?? "")?.[1];
  return token ? { token } : { tusUrl: true };
}

/**
 * The upload as it stands; 410 `upload_gone` once it was terminated or
 * expired. An upload holding every chunk is completed first, so one whose
 * completion failed after its last PATCH is finished by the client's next look.
 */
async function current(env: Env, videoId: string, who: UploadAccess): Promise<UploadSnapshot> {
  const { snapshot } = unwrap(await videoObject(env, videoId).describe(who));
  if (snapshot.status === "aborted" || snapshot.status === "expired") {
    throw apiError("upload_gone", `The upload was ${snapshot.status === "aborted" ? "terminated" : "expired"}.`, {
      status: snapshot.status,
    });
  }
  return finishIfWhole(env, videoId, who, snapshot);
}

/** Completes an upload that holds every chunk (which queues it for processing); returns it as it then stands. */
async function finishIfWhole(
  env: Env,
  videoId: string,
  who: UploadAccess,
  snapshot: UploadSnapshot,
): Promise<UploadSnapshot> {
  if (snapshot.status !== "uploading" || snapshot.received.length !== snapshot.totalChunks) return snapshot;
  const video = videoObject(env, videoId);
  unwrap(await video.complete(who));
  return unwrap(await video.describe(who)).snapshot;
}

/**
 * Streams a body starting at the upload's offset into its chunks; once the
 * last chunk is in, completes the upload, which queues it for processing.
 * Returns the upload as it then stands.
 */
async function receive(
  env: Env,
  videoId: string,
  who: UploadAccess,
  snapshot: UploadSnapshot,
  body: ReadableStream<Uint8Array>,
  checksum: Checksum | undefined,
): Promise<UploadSnapshot> {
  const video = videoObject(env, videoId);
  const digest = checksum ? new crypto.DigestStream(TUS_CHECKSUMS[checksum.algorithm]) : undefined;
  const hashing = digest?.getWriter();
  const cutter = new ByteCutter(body, hashing && ((piece) => hashing.write(piece)));
  const first = contiguousBytes(snapshot, snapshot.received) / snapshot.chunkSize + 1;
  // Whatever the body's fate, the chunks it stored may have finished the file: complete it then.
  const failure = await storeChunkRun(cutter, {
    env,
    videoId,
    access: who,
    plan: snapshot,
    first,
    ...(hashing && checksum
      ? {
          accept: async () => {
            await hashing.close();
            return toHex(new Uint8Array(await digest!.digest)) === toHex(checksum.digest);
          },
        }
      : {}),
  }).then(
    () => undefined,
    (err: unknown) => err,
  );
  const state = await finishIfWhole(env, videoId, who, unwrap(await video.describe(who)).snapshot);
  if (failure !== undefined) throw failure;
  return state;
}

/** `Upload-Offset`, `Upload-Length`, `Upload-Expires` while it may expire, and the chunk size. */
function uploadHeaders(snapshot: UploadSnapshot): Record<string, string> {
  const complete = snapshot.status !== "uploading";
  return {
    "Upload-Offset": String(complete ? snapshot.size : contiguousBytes(snapshot, snapshot.received)),
    "Upload-Length": String(snapshot.size),
    ...(complete ? {} : { "Upload-Expires": httpDate(Date.parse(snapshot.expiresAt)) }),
    [CHUNK_SIZE_HEADER]: String(snapshot.chunkSize),
  };
}

function declaredLength(header: string | undefined): number | null {
  return header === undefined ? null : parse(decimalInt(0).describe("Content-Length"), header);
}

/** 400 `wrong_length` unless a body of `bytes` at `offset` is whole chunks, or ends the file, and fits in it. */
function checkBodyLength(snapshot: ChunkPlan, offset: number, bytes: number): void {
  const end = offset + bytes;
  if (end > snapshot.size) {
    throw apiError("wrong_length", `The body runs past the end of the upload: ${end} > ${snapshot.size} bytes.`, {
      chunkSize: snapshot.chunkSize,
    });
  }
  if (bytes % snapshot.chunkSize !== 0 && end !== snapshot.size) {
    throw apiError(
      "wrong_length",
      `A PATCH body must be a whole number of ${snapshot.chunkSize}-byte chunks (${CHUNK_SIZE_HEADER}) or end the file at ${snapshot.size} bytes; set your client's chunk size to ${snapshot.chunkSize}.`,
      { chunkSize: snapshot.chunkSize },
    );
  }
}

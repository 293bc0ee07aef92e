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
import { type DescribeRouteOptions, describeRoute } from "hono-openapi";
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
import {
  bytesBody,
  credentials,
  emptyResponse,
  errorResponses,
  HEAD_ONLY,
  header,
  headerParam,
  TOKEN_ERRORS,
} from "../openapi/docs.ts";
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

const DIGITS = { type: "string", pattern: "^[0-9]{1,15}$" };
const chunkSizeHeader = header(
  "The size every `PATCH` body must be a whole number of, unless it ends the file.",
  DIGITS,
);

/**
 * `OPTIONS /api/tus` for the OpenAPI document, by hand: the CORS middleware
 * answers it (and `tusProtocol` adds the above), so no route carries it.
 */
export const tusDiscoveryDocs = {
  tags: ["tus"],
  operationId: "tusOptions",
  summary: "What the server supports",
  description:
    "Needs no `Tus-Resumable`. A `PATCH` body must be whole chunks of `Reelay-Chunk-Size` bytes, or end the file.",
  responses: {
    204: emptyResponse("The server's tus capabilities.", {
      "Tus-Resumable": header("The protocol version of this answer.", { type: "string", enum: [TUS_VERSION] }),
      "Tus-Version": header("The protocol versions the server speaks."),
      "Tus-Extension": header(`The extensions: \`${TUS_EXTENSIONS.join(",")}\`.`),
      "Tus-Checksum-Algorithm": header(`\`Upload-Checksum\` algorithms: \`${Object.keys(TUS_CHECKSUMS).join(",")}\`.`),
      "Tus-Max-Size": header("The largest upload, in bytes (`MAX_UPLOAD_BYTES`).", DIGITS),
      [CHUNK_SIZE_HEADER]: chunkSizeHeader,
    }),
  },
};

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

/** What every tus operation but `OPTIONS` takes and may refuse, besides its own. */
const tusOperation = (spec: DescribeRouteOptions) =>
  describeRoute({
    tags: ["tus"],
    ...spec,
    parameters: [
      headerParam("Tus-Resumable", "The protocol version the client speaks.", {
        schema: { type: "string", enum: [TUS_VERSION] },
      }),
      ...(spec.parameters ?? []),
    ],
    responses: { ...spec.responses, ...errorResponses("tus_version_unsupported") },
  });

const uploadChecksum = headerParam(
  "Upload-Checksum",
  `\`<algorithm> <base64 digest>\` of the whole body (${Object.keys(TUS_CHECKSUMS).join(", ")}); on a mismatch nothing of it is kept.`,
  { required: false },
);
/** Where an upload stands, on every answer that names one. */
const uploadStateHeaders = {
  "Upload-Offset": header("Where the stored chunks end: where the client resumes.", DIGITS),
  "Upload-Length": header("The file's size.", DIGITS),
  "Upload-Expires": header("While the upload is unfinished: when it expires (an HTTP date)."),
  [CHUNK_SIZE_HEADER]: chunkSizeHeader,
};

const createDocs = tusOperation({
  operationId: "tusCreate",
  summary: "Create an upload (tus)",
  description:
    "Creates the video exactly as `POST /api/uploads` does, under the same credentials. A body sent as `application/offset+octet-stream` is stored at once (creation-with-upload).",
  security: credentials.creator,
  parameters: [
    headerParam("Upload-Length", "The file's size in bytes.", { schema: DIGITS }),
    headerParam(
      "Upload-Metadata",
      "Comma-separated `key base64value` pairs: `filename`, `filetype`, and optionally `title`, `description`, `tags` (comma-separated) and `visibility`.",
      { required: false },
    ),
    uploadChecksum,
  ],
  requestBody: bytesBody(
    TUS_CONTENT_TYPE,
    "The file's first bytes (creation-with-upload): whole chunks, or the whole file.",
    false,
  ),
  responses: {
    201: emptyResponse("The upload exists, with the bytes sent stored.", {
      Location: header("The upload's URL: `/api/tus/{videoId}`."),
      ...uploadStateHeaders,
      [UPLOAD_TOKEN_HEADER]: header("The video's upload token: our API's and the owner's credential. Shown once."),
    }),
    ...errorResponses(
      "invalid_request",
      "wrong_length",
      "unsupported_checksum",
      ...TOKEN_ERRORS,
      "uploads_disabled",
      "origin_not_allowed",
      "direct_upload_used",
      "direct_upload_expired",
      "payload_too_large",
      "not_a_video",
      "rate_limited",
      "upload_quota_exceeded",
      "checksum_mismatch",
    ),
  },
});

tus.post("/", createDocs, creator, creatingClient, async (c) => {
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

const offsetDocs = tusOperation({
  ...HEAD_ONLY,
  operationId: "tusOffset",
  summary: "Where to resume (tus)",
  description:
    "Where the chunks stored from the start end. An upload holding every chunk is completed first, so one whose completion failed after its last `PATCH` is finished by this look.",
  security: credentials.tusUpload,
  responses: {
    200: emptyResponse("The upload's state.", { ...uploadStateHeaders, "Cache-Control": header("`no-store`.") }),
    ...errorResponses("not_found", "invalid_token", "upload_gone"),
  },
});

// Hono routes a HEAD request as GET (and drops the body it answers), so HEAD
// is registered as GET; a real GET is not part of tus.
tus.get("/:videoId", offsetDocs, videoParam, async (c) => {
  if (c.req.method !== "HEAD") throw apiError("method_not_allowed", "An upload's URL takes HEAD, PATCH and DELETE.");
  const { videoId } = c.req.valid("param");
  const snapshot = await current(c.env, videoId, access(c.req.header("authorization")));
  return c.body(null, 200, { ...uploadHeaders(snapshot), "Cache-Control": "no-store" });
});

const patchDocs = tusOperation({
  operationId: "tusPatch",
  summary: "Send bytes (tus)",
  description:
    "Bytes from `Upload-Offset` on: whole chunks of `Reelay-Chunk-Size` bytes, or up to the end of the file. When the last byte arrives the upload completes and is queued for processing.",
  security: credentials.tusUpload,
  parameters: [
    headerParam("Upload-Offset", "Where the body starts: the offset `HEAD` answered.", { schema: DIGITS }),
    uploadChecksum,
  ],
  requestBody: bytesBody(TUS_CONTENT_TYPE, "The bytes from `Upload-Offset` on."),
  responses: {
    204: emptyResponse("The bytes are stored.", uploadStateHeaders),
    ...errorResponses(
      "invalid_request",
      "wrong_length",
      "unsupported_checksum",
      "invalid_token",
      "not_found",
      "upload_closed",
      "offset_mismatch",
      "chunk_in_progress",
      "chunk_conflict",
      "request_timeout",
      "upload_gone",
      "wrong_content_type",
      "checksum_mismatch",
    ),
  },
});

tus.patch("/:videoId", patchDocs, videoParam, async (c) => {
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

const terminateDocs = tusOperation({
  operationId: "tusTerminate",
  summary: "Terminate an upload (tus)",
  description: "Drops an unfinished upload; later requests are 410 `upload_gone`.",
  security: credentials.tusUpload,
  responses: {
    204: emptyResponse("Terminated."),
    ...errorResponses("invalid_token", "not_found", "upload_completed", "upload_gone"),
  },
});

tus.delete("/:videoId", terminateDocs, videoParam, async (c) => {
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

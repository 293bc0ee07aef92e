/**
 * `/api/uploads`: create an upload, send chunks (any order, in parallel, any
 * number of times), ask what arrived, complete, abort. The video's Durable
 * Object (`VideoObject`) decides; this file only speaks HTTP and streams
 * chunk bytes into R2, checking them on the way (part-stream.ts).
 */
import { type Context, Hono } from "hono";
import { describeRoute } from "hono-openapi";
import { z } from "zod";
import { MAX_CHUNK_BYTES, readConfig } from "../config.ts";
import { creator, uploadToken } from "../http/auth.ts";
import { apiError, unwrap } from "../http/errors.ts";
import { noSuchUpload, uploadParam } from "../http/params.ts";
import { parse, validJson, validParams } from "../http/validate.ts";
import { VideoIdSchema } from "../contracts/video.ts";
import { decimalInt } from "../contracts/decimal-int.ts";
import {
  ChunkIndexSchema,
  ChunkReceiptSchema,
  CompletionSchema,
  createUploadSchema,
  UploadCreatedSchema,
  UploadStatusSchema,
} from "../contracts/upload.ts";
import {
  bytesBody,
  credentials,
  emptyResponse,
  errorResponses,
  header,
  headerParam,
  JSON_BODY_ERRORS,
  jsonResponse,
  TOKEN_ERRORS,
} from "../openapi/docs.ts";
import { videoObject } from "../video-object/stub.ts";
import { creatingClient } from "./client.ts";
import { createUpload } from "./creation.ts";
import { parseContentDigest } from "./content-digest.ts";
import { type Hashed, storeChunk, verifyChunk } from "./part-stream.ts";
import { CHUNK_LEASE_RENEW_MS } from "../video-object/upload.ts";

export const uploads = new Hono<{ Bindings: Env }>();

const createDocs = describeRoute({
  tags: ["uploads"],
  operationId: "createUpload",
  summary: "Create an upload",
  description:
    "Creates a video and its upload. The server chooses the chunk size (the preference clamped to R2's part rules); send `totalChunks` chunks, then complete. The upload token answered is shown once: it is the owner's credential. A file whose `contentType` says it is not a video is refused 415 `not_a_video` before a byte is sent.",
  security: credentials.creator,
  responses: {
    201: jsonResponse(UploadCreatedSchema, "The upload exists; send its chunks.", {
      Location: header("The upload's URL: `/api/uploads/{videoId}`."),
    }),
    ...errorResponses(
      ...JSON_BODY_ERRORS,
      ...TOKEN_ERRORS,
      "uploads_disabled",
      "origin_not_allowed",
      "not_a_video",
      "rate_limited",
      "upload_quota_exceeded",
      "direct_upload_used",
      "direct_upload_expired",
      "upload_exists",
    ),
  },
});

// `?direct=<capability>`: a direct creator upload's one video, without the uploader's credential.
uploads.post(
  "/",
  createDocs,
  creator,
  validJson((env) => createUploadSchema(readConfig(env).maxUploadBytes)),
  creatingClient,
  async (c) => {
    const requester = { clientKey: c.var.clientKey, direct: c.var.direct };
    const { videoId, uploadToken, snapshot } = await createUpload(c.env, c.req.valid("json"), requester, "api");
    return c.json(
      {
        videoId,
        uploadToken,
        chunkSize: snapshot.chunkSize,
        totalChunks: snapshot.totalChunks,
        expiresAt: snapshot.expiresAt,
      },
      201,
      { Location: `/api/uploads/${videoId}` },
    );
  },
);

/** `:videoId` and the chunk index `:n`; a malformed id is an unknown upload. */
const chunkParams = validParams(z.object({ videoId: VideoIdSchema, n: ChunkIndexSchema }), (issues) =>
  issues.some((i) => i.path[0] === "videoId")
    ? noSuchUpload()
    : apiError("invalid_chunk_index", "The chunk index must be an integer from 1."),
);

const chunkDocs = describeRoute({
  tags: ["uploads"],
  operationId: "putChunk",
  summary: "Send a chunk",
  description:
    "Chunk `n` (1-based) is exactly `chunkSize` bytes, the last one the remainder. Chunks may come in any order, in parallel, and any number of times: a stored chunk is verified again, never overwritten. The bytes are hashed as they stream into storage and kept only if they match `Content-Digest`.",
  security: credentials.uploadToken,
  parameters: [
    headerParam("Content-Digest", "The chunk's SHA-256 (RFC 9530): `sha-256=:<base64>:`.", {
      schema: { type: "string", pattern: "^sha-256=:[A-Za-z0-9+/]+={0,2}:$" },
    }),
  ],
  requestBody: bytesBody("application/octet-stream", "The chunk's bytes."),
  responses: {
    200: jsonResponse(ChunkReceiptSchema, "The chunk is stored (or was already, with the same bytes)."),
    ...errorResponses(
      "invalid_chunk_index",
      "missing_digest",
      "invalid_digest",
      "wrong_length",
      "invalid_request",
      ...TOKEN_ERRORS,
      "not_found",
      "upload_closed",
      "chunk_in_progress",
      "chunk_superseded",
      "chunk_conflict",
      "request_timeout",
      "payload_too_large",
      "digest_mismatch",
    ),
  },
});

uploads.put("/:videoId/chunks/:n", chunkDocs, chunkParams, uploadToken, async (c) => {
  const { videoId, n } = c.req.valid("param");
  const token = c.var.token;
  const declared = declaredLength(c);
  const digest = parseContentDigest(c.req.header("content-digest"));
  if (!digest.ok) {
    throw digest.reason === "missing"
      ? apiError("missing_digest", "Send `Content-Digest: sha-256=:<base64>:` (RFC 9530) with every chunk.")
      : apiError("invalid_digest", "`Content-Digest` must carry a base64 SHA-256: `sha-256=:<base64>:`.");
  }
  const body = c.req.raw.body ?? new Blob([]).stream();
  const video = videoObject(c.env, videoId);
  const grant = unwrap(await video.beginChunk({ token }, n));
  const rules = { n, expectedBytes: grant.expectedBytes, sha256: digest.sha256, declaredBytes: declared };
  const watching = { stallMs: readConfig(c.env).chunkStallTimeoutMs, renewEveryMs: CHUNK_LEASE_RENEW_MS };

  if (grant.mode === "verify") {
    // Already stored: re-hash what came, keep nothing, never touch the part.
    const { sha256, bytes } = await verifyChunk(body, rules, { ...watching, onProgress: () => {} });
    if (sha256 !== grant.sha256) {
      throw apiError("chunk_conflict", `Chunk ${n} is already stored with different content.`, {
        stored: grant.sha256,
      });
    }
    return c.json({ chunk: n, size: bytes, sha256, received: grant.received, totalChunks: grant.totalChunks });
  }

  const part = c.env.VIDEOS.resumeMultipartUpload(grant.r2Key, grant.r2UploadId);
  let stored: Hashed<R2UploadedPart>;
  // The lease is renewed only while bytes arrive: a stalled body lets it lapse, then is ended.
  const renew = () => void video.renewLeases([{ n, leaseId: grant.leaseId }]).catch(() => {});
  try {
    stored = await storeChunk(body, rules, (s) => part.uploadPart(n, s), { ...watching, onProgress: renew });
  } catch (err) {
    await video.releaseChunk(n, grant.leaseId);
    throw err;
  }
  const recorded = unwrap(
    await video.recordChunk(n, {
      leaseId: grant.leaseId,
      bytes: stored.bytes,
      sha256: stored.sha256,
      etag: stored.result.etag,
    }),
  );
  return c.json({
    chunk: n,
    size: stored.bytes,
    sha256: stored.sha256,
    received: recorded.received,
    totalChunks: recorded.totalChunks,
  });
});

const statusDocs = describeRoute({
  tags: ["uploads"],
  operationId: "getUpload",
  summary: "What arrived",
  description: "The upload's state and the chunks stored: what to resume from.",
  security: credentials.uploadToken,
  responses: {
    200: jsonResponse(UploadStatusSchema, "The upload."),
    ...errorResponses(...TOKEN_ERRORS, "not_found"),
  },
});

uploads.get("/:videoId", statusDocs, uploadParam, uploadToken, async (c) => {
  const { videoId } = c.req.valid("param");
  const { snapshot } = unwrap(await videoObject(c.env, videoId).describe({ token: c.var.token }));
  return c.json(snapshot);
});

const completeDocs = describeRoute({
  tags: ["uploads"],
  operationId: "completeUpload",
  summary: "Complete an upload",
  description:
    "Checks that every chunk is stored, assembles the file and queues it for processing. Calling it again, even concurrently, is harmless.",
  security: credentials.uploadToken,
  responses: {
    202: jsonResponse(CompletionSchema, "The file is whole; the video is processing."),
    ...errorResponses(...TOKEN_ERRORS, "not_found", "missing_chunks", "upload_closed"),
  },
});

uploads.post("/:videoId/complete", completeDocs, uploadParam, uploadToken, async (c) => {
  const { videoId } = c.req.valid("param");
  const { status } = unwrap(await videoObject(c.env, videoId).complete({ token: c.var.token }));
  return c.json({ videoId, status }, 202);
});

const abortDocs = describeRoute({
  tags: ["uploads"],
  operationId: "abortUpload",
  summary: "Abort an upload",
  description: "Drops every stored chunk of an unfinished upload; chunks are refused from then on.",
  security: credentials.uploadToken,
  responses: {
    204: emptyResponse("Aborted."),
    ...errorResponses(...TOKEN_ERRORS, "not_found", "upload_completed", "upload_closed"),
  },
});

uploads.delete("/:videoId", abortDocs, uploadParam, uploadToken, async (c) => {
  const { videoId } = c.req.valid("param");
  unwrap(await videoObject(c.env, videoId).abort({ token: c.var.token }));
  return c.body(null, 204);
});

/** The declared body length, refusing bodies no chunk could ever be. */
function declaredLength(c: Context): number | null {
  const header = c.req.header("content-length");
  if (header === undefined) return null;
  const bytes = parse(ChunkLengthSchema, header);
  if (bytes > MAX_CHUNK_BYTES) throw apiError("payload_too_large", `A chunk is at most ${MAX_CHUNK_BYTES} bytes.`);
  return bytes;
}

const ChunkLengthSchema = decimalInt(0);

/**
 * `/api/uploads`: create an upload, send chunks (any order, in parallel, any
 * number of times), ask what arrived, complete, abort. The video's Durable
 * Object (`VideoObject`) decides; this file only speaks HTTP and streams
 * chunk bytes into R2, checking them on the way (part-stream.ts).
 */
import { Hono, type Context } from "hono";
import { z } from "zod";
import { MAX_CHUNK_BYTES, readConfig } from "../config.ts";
import { safeEqual } from "../crypto/tokens.ts";
import { bearerToken } from "../http/auth.ts";
import { apiError, unwrap } from "../http/errors.ts";
import { jsonBody, parse } from "../http/validate.ts";
import { VideoIdSchema } from "../contracts/video.ts";
import { ChunkIndexSchema, createUploadSchema } from "../contracts/upload.ts";
import { titleFromFilename } from "../contracts/vocabulary.ts";
import { newVideoId } from "../storage/keys.ts";
import { videoObject } from "../video/stub.ts";
import { planChunks } from "./chunk-plan.ts";
import { parseContentDigest } from "./content-digest.ts";
import { type Hashed, storeChunk, verifyChunk } from "./part-stream.ts";
import { CHUNK_LEASE_RENEW_MS } from "../video/upload.ts";

export const uploads = new Hono<{ Bindings: Env }>();

uploads.post("/", async (c) => {
  const config = readConfig(c.env);
  if (config.apiToken !== undefined) {
    const presented = bearerToken(c.req.header("authorization"));
    if (presented === undefined)
      throw apiError("missing_token", "Creating an upload needs `Authorization: Bearer <API_TOKEN>`.");
    if (!(await safeEqual(presented, config.apiToken))) throw apiError("invalid_token", "The API token is not valid.");
  }
  const body = await jsonBody(c, createUploadSchema(config.maxUploadBytes));
  const videoId = newVideoId();
  const plan = planChunks(body.size, body.chunkSize ?? config.defaultChunkSize);
  const created = unwrap(
    await coordinator(c, videoId).create({
      videoId,
      plan,
      filename: body.filename,
      contentType: body.contentType,
      title: body.title || titleFromFilename(body.filename),
      description: body.description ?? "",
      tags: body.tags ?? [],
      visibility: body.visibility,
    }),
  );
  const { snapshot } = created;
  return c.json(
    {
      videoId,
      uploadToken: created.uploadToken,
      chunkSize: snapshot.chunkSize,
      totalChunks: snapshot.totalChunks,
      expiresAt: snapshot.expiresAt,
    },
    201,
    { Location: `/api/uploads/${videoId}` },
  );
});

uploads.put("/:videoId/chunks/:n", async (c) => {
  const videoId = videoIdParam(c);
  const n = ChunkIndexSchema.safeParse(c.req.param("n"));
  if (!n.success) throw apiError("invalid_chunk_index", "The chunk index must be an integer from 1.");
  const token = requireToken(c);
  const declared = declaredLength(c);
  const digest = parseContentDigest(c.req.header("content-digest"));
  if (!digest.ok) {
    throw digest.reason === "missing"
      ? apiError("missing_digest", "Send `Content-Digest: sha-256=:<base64>:` (RFC 9530) with every chunk.")
      : apiError("invalid_digest", "`Content-Digest` must carry a base64 SHA-256: `sha-256=:<base64>:`.");
  }
  const body = c.req.raw.body ?? new Blob([]).stream();
  const video = coordinator(c, videoId);
  const grant = unwrap(await video.beginChunk(token, n.data));
  const rules = { n: n.data, expectedBytes: grant.expectedBytes, sha256: digest.sha256, declaredBytes: declared };

  if (grant.mode === "verify") {
    // Already stored: re-hash what came, keep nothing, never touch the part.
    const { sha256, bytes } = await verifyChunk(body, rules);
    if (sha256 !== grant.sha256) {
      throw apiError("chunk_conflict", `Chunk ${n.data} is already stored with different content.`, {
        stored: grant.sha256,
      });
    }
    return c.json({ chunk: n.data, size: bytes, sha256, received: grant.received, totalChunks: grant.totalChunks });
  }

  const part = c.env.VIDEOS.resumeMultipartUpload(grant.r2Key, grant.r2UploadId);
  let stored: Hashed<R2UploadedPart>;
  const renewing = setInterval(
    () => void video.renewLease(n.data, grant.leaseId).catch(() => {}),
    CHUNK_LEASE_RENEW_MS,
  );
  try {
    stored = await storeChunk(body, rules, (s) => part.uploadPart(n.data, s));
  } catch (err) {
    await video.releaseChunk(n.data, grant.leaseId);
    throw err;
  } finally {
    clearInterval(renewing);
  }
  const recorded = unwrap(
    await video.recordChunk(n.data, {
      leaseId: grant.leaseId,
      bytes: stored.bytes,
      sha256: stored.sha256,
      etag: stored.result.etag,
    }),
  );
  return c.json({
    chunk: n.data,
    size: stored.bytes,
    sha256: stored.sha256,
    received: recorded.received,
    totalChunks: recorded.totalChunks,
  });
});

uploads.get("/:videoId", async (c) => {
  const videoId = videoIdParam(c);
  const { snapshot } = unwrap(await coordinator(c, videoId).describe(requireToken(c)));
  return c.json(snapshot);
});

uploads.post("/:videoId/complete", async (c) => {
  const videoId = videoIdParam(c);
  const { status } = unwrap(await coordinator(c, videoId).complete(requireToken(c)));
  return c.json({ videoId, status }, 202);
});

uploads.delete("/:videoId", async (c) => {
  const videoId = videoIdParam(c);
  unwrap(await coordinator(c, videoId).abort(requireToken(c)));
  return c.body(null, 204);
});

export function coordinator(c: Context<{ Bindings: Env }>, videoId: string) {
  return videoObject(c.env, videoId);
}

/** The `:videoId` (or `:id`) path parameter; a malformed id cannot name any upload. */
export function videoIdParam(c: Context, name = "videoId"): string {
  const id = VideoIdSchema.safeParse(c.req.param(name));
  if (!id.success) throw apiError("not_found", "No such upload.");
  return id.data;
}

export function requireToken(c: Context): string {
  const token = bearerToken(c.req.header("authorization"));
  if (token === undefined)
    throw apiError("missing_token", "Send the upload token as `Authorization: Bearer <uploadToken>`.");
  return token;
}

/** The declared body length, refusing bodies no chunk could ever be. */
function declaredLength(c: Context): number | null {
  const header = c.req.header("content-length");
  if (header === undefined) return null;
  const bytes = parse(ChunkLengthSchema, header);
  if (bytes > MAX_CHUNK_BYTES) throw apiError("payload_too_large", `A chunk is at most ${MAX_CHUNK_BYTES} bytes.`);
  return bytes;
}

const ChunkLengthSchema = z.coerce.number().int().min(0);

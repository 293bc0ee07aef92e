/**
 * `/api/uploads`: create an upload, send chunks (any order, in parallel, any
 * number of times), ask what arrived, complete, abort. The video's Durable
 * Object (`VideoObject`) decides; this file only speaks HTTP and streams
 * chunk bytes into R2, checking them on the way (part-stream.ts).
 */
import { type Context, Hono } from "hono";
import { z } from "zod";
import { MAX_CHUNK_BYTES, readConfig } from "../config.ts";
import { creator, uploadToken } from "../http/auth.ts";
import { apiError, unwrap } from "../http/errors.ts";
import { noSuchUpload, uploadParam } from "../http/params.ts";
import { parse, validJson, validParams } from "../http/validate.ts";
import { VideoIdSchema } from "../contracts/video.ts";
import { decimalInt } from "../contracts/decimal-int.ts";
import { ChunkIndexSchema, createUploadSchema } from "../contracts/upload.ts";
import { videoObject } from "../video-object/stub.ts";
import { creatingClient } from "./client.ts";
import { createUpload } from "./creation.ts";
import { parseContentDigest } from "./content-digest.ts";
import { type Hashed, storeChunk, verifyChunk } from "./part-stream.ts";
import { CHUNK_LEASE_RENEW_MS } from "../video-object/upload.ts";

export const uploads = new Hono<{ Bindings: Env }>();

// `?direct=<capability>`: a direct creator upload's one video, without the uploader's credential.
uploads.post(
  "/",
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

uploads.put("/:videoId/chunks/:n", chunkParams, uploadToken, async (c) => {
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

uploads.get("/:videoId", uploadParam, uploadToken, async (c) => {
  const { videoId } = c.req.valid("param");
  const { snapshot } = unwrap(await videoObject(c.env, videoId).describe({ token: c.var.token }));
  return c.json(snapshot);
});

uploads.post("/:videoId/complete", uploadParam, uploadToken, async (c) => {
  const { videoId } = c.req.valid("param");
  const { status } = unwrap(await videoObject(c.env, videoId).complete({ token: c.var.token }));
  return c.json({ videoId, status }, 202);
});

uploads.delete("/:videoId", uploadParam, uploadToken, async (c) => {
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

/**
 * `/api/videos`: search and listing, a video's public description and
 * status, its owner's edits and deletion, the owner's download of the
 * original file, byte for byte, and the operator's listing of what a video
 * stores.
 */
import { Hono } from "hono";
import { describeRoute } from "hono-openapi";
import { getVideo, updateVideo } from "../db/videos.ts";
import { administrator, owner, uploadToken } from "../http/auth.ts";
import { attachment } from "../http/content-disposition.ts";
import { PlaybackTokenQuerySchema } from "../contracts/playback-token.ts";
import { assertVisibilityPlayable, viewerToken, withPlaybackToken } from "../playback/playback-access.ts";
import { apiError, unwrap } from "../http/errors.ts";
import { noSuchVideo, videoParam } from "../http/params.ts";
import { validJson, validQuery } from "../http/validate.ts";
import { listVideos } from "../search/list.ts";
import { serveObject } from "../storage/serve.ts";
import { videoObject } from "../video-object/stub.ts";
import {
  ListQuerySchema,
  VideoPageSchema,
  VideoPatchSchema,
  VideoSchema,
  VideoStorageSchema,
} from "../contracts/video.ts";
import {
  credentials,
  emptyResponse,
  errorResponses,
  header,
  JSON_BODY_ERRORS,
  jsonResponse,
  servedFile,
  TOKEN_ERRORS,
} from "../openapi/docs.ts";
import { describeVideo } from "./describe.ts";
import { describeStorage, storedObjects } from "./storage.ts";

export const videos = new Hono<{ Bindings: Env }>();

const listDocs = describeRoute({
  tags: ["videos"],
  operationId: "listVideos",
  summary: "Search and list videos",
  description:
    "Ready, public videos (unlisted ones play by link but are never listed or found). With `q`, every word matches as a prefix against title, tags, description and captions, ranked by relevance (videos found only in their captions last), and each item carries `highlight`, and `moments` when its captions match. Pages follow `nextCursor`, which is null on the last page.",
  responses: {
    200: jsonResponse(VideoPageSchema, "One page of videos.", { "Cache-Control": header("`public, max-age=5`.") }),
    ...errorResponses("invalid_request", "invalid_cursor"),
  },
});

videos.get("/", listDocs, validQuery(ListQuerySchema), async (c) => {
  const { items, nextCursor } = await listVideos(c.env.DB, c.req.valid("query"));
  return c.json(
    {
      items: items.map(({ row, highlight, moments }) => ({
        ...describeVideo(row),
        ...(highlight ? { highlight } : {}),
        ...(moments ? { moments } : {}),
      })),
      nextCursor,
    },
    200,
    { "Cache-Control": "public, max-age=5" },
  );
});

const editDocs = describeRoute({
  tags: ["videos"],
  operationId: "updateVideo",
  summary: "Edit a video",
  description:
    "The owner's edits, at least one field; search reflects them at once. `downloadable: true` has the downloads made once the ladder is complete (`playback.download` appears when they are ready, with `video.downloads.ready`); sent again after they failed, it tries again. `false` stops serving them at once.",
  security: credentials.owner,
  responses: {
    200: jsonResponse(VideoSchema, "The video as edited."),
    ...errorResponses(...JSON_BODY_ERRORS, ...TOKEN_ERRORS, "not_found", "private_playback_unavailable"),
  },
});

videos.patch("/:id", editDocs, videoParam, owner, validJson(VideoPatchSchema), async (c) => {
  const { id } = c.req.valid("param");
  const patch = c.req.valid("json");
  assertVisibilityPlayable(c.env, patch.visibility);
  if (typeof patch.posterTime === "number") {
    // Past the end names no frame: refused, so the owner learns the length. Before it is known, frames clamp it.
    const duration = (await getVideo(c.env.DB, id))?.durationSec;
    if (typeof duration === "number" && patch.posterTime > duration) {
      const message = `must be at most the video's duration, ${duration} s`;
      throw apiError("invalid_request", `posterTime: ${message}`, { issues: [{ path: "posterTime", message }] });
    }
  }
  const row = await updateVideo(c.env.DB, id, patch);
  if (!row) throw noSuchVideo();
  // The video's object tells the world (`video.updated`), in order with its other events.
  await videoObject(c.env, id).edited();
  // Downloads allowed are made by the video's object (from D1's row, now written); refused ones stop at once.
  if (patch.downloadable !== undefined) await videoObject(c.env, id).downloadsAllowed(patch.downloadable);
  return c.json(describeVideo(row));
});

const deleteDocs = describeRoute({
  tags: ["videos"],
  operationId: "deleteVideo",
  summary: "Delete a video",
  description:
    "Removes the video, its search entry and every stored file, also in the middle of an upload or of processing; then every URL of it is 404.",
  security: credentials.owner,
  responses: {
    204: emptyResponse("Deleted."),
    ...errorResponses(...TOKEN_ERRORS, "not_found"),
  },
});

videos.delete("/:id", deleteDocs, videoParam, owner, async (c) => {
  unwrap(await videoObject(c.env, c.req.valid("param").id).purge());
  return c.body(null, 204);
});

const videoDocs = describeRoute({
  tags: ["videos"],
  operationId: "getVideo",
  summary: "A video",
  description:
    "Its description, status and, once playable, its playback URLs (root-relative: resolve them against the API's URL). `progress` is present while processing, also while a ready video's ladder is still encoding. A private video answers only its owner, the administrator, or a request with a playback token (`?token=`); its playback URLs then carry a token (a fresh one-hour one for the owner).",
  responses: {
    200: jsonResponse(VideoSchema, "The video.", { "Cache-Control": header("`no-store`.") }),
    ...errorResponses("not_found", "playback_token_required", "playback_token_invalid", "private_playback_unavailable"),
  },
});

videos.get("/:id", videoDocs, videoParam, validQuery(PlaybackTokenQuerySchema), async (c) => {
  const row = await getVideo(c.env.DB, c.req.valid("param").id);
  if (!row) throw noSuchVideo();
  const token = await viewerToken(c.env, row, c.req.valid("query").token, c.req.header("authorization"));
  return c.json(withPlaybackToken(describeVideo(row), token), 200, { "Cache-Control": "no-store" });
});

const sourceDocs = describeRoute({
  tags: ["videos"],
  operationId: "getSource",
  summary: "The original file",
  description: "The file as it was uploaded, byte for byte, for its owner, as an attachment with its file name.",
  security: credentials.uploadToken,
  ...servedFile(["*/*"], "The file, with its own type.", ...TOKEN_ERRORS, "not_found", "source_unavailable", "changed"),
});

videos.get("/:id/source", sourceDocs, videoParam, uploadToken, async (c) => {
  const source = unwrap(await videoObject(c.env, c.req.valid("param").id).source(c.var.token));
  return serveObject(c.req.raw, c.env.VIDEOS, source.r2Key, {
    contentType: source.contentType,
    cacheControl: "private, no-store",
    headers: { "Content-Disposition": attachment(source.filename) },
  });
});

/**
 * Every object the video stores in R2, for the operator. A video Reelay has
 * no row for is 404 only when nothing is stored under its id either: objects
 * left behind are exactly what this listing is for.
 */
const storageDocs = describeRoute({
  tags: ["videos"],
  operationId: "getVideoStorage",
  summary: "What a video stores",
  description: "Every stored object under the video's id, for the operator: also those of a video that is gone.",
  security: credentials.administrator,
  responses: {
    200: jsonResponse(VideoStorageSchema, "The video's objects.", { "Cache-Control": header("`no-store`.") }),
    ...errorResponses(...TOKEN_ERRORS, "not_found"),
  },
});

videos.get("/:id/storage", storageDocs, videoParam, administrator, async (c) => {
  const id = c.req.valid("param").id;
  const [row, objects] = await Promise.all([getVideo(c.env.DB, id), storedObjects(c.env.VIDEOS, id)]);
  if (!row && objects.length === 0) throw noSuchVideo();
  return c.json(describeStorage(id, objects, row?.playbackJob ?? null), 200, { "Cache-Control": "no-store" });
});

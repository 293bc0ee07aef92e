/**
 * `/api/videos`: search and listing, a video's public description and
 * status, its owner's edits and deletion, the owner's download of the
 * original file, byte for byte, and the operator's listing of what a video
 * stores.
 */
import { Hono } from "hono";
import { getVideo, updateVideo } from "../db/videos.ts";
import { administrator, owner, uploadToken } from "../http/auth.ts";
import { unwrap } from "../http/errors.ts";
import { noSuchVideo, videoParam } from "../http/params.ts";
import { validJson, validQuery } from "../http/validate.ts";
import { listVideos } from "../search/list.ts";
import { serveObject } from "../storage/serve.ts";
import { videoObject } from "../video-object/stub.ts";
import { ListQuerySchema, VideoPatchSchema } from "../contracts/video.ts";
import { describeVideo } from "./describe.ts";
import { describeStorage, storedObjects } from "./storage.ts";

export const videos = new Hono<{ Bindings: Env }>();

videos.get("/", validQuery(ListQuerySchema), async (c) => {
  const { items, nextCursor } = await listVideos(c.env.DB, c.req.valid("query"));
  return c.json(
    {
      items: items.map(({ row, highlight }) => ({
        ...describeVideo(row),
        ...(highlight ? { highlight } : {}),
      })),
      nextCursor,
    },
    200,
    { "Cache-Control": "public, max-age=5" },
  );
});

videos.patch("/:id", videoParam, owner, validJson(VideoPatchSchema), async (c) => {
  const row = await updateVideo(c.env.DB, c.req.valid("param").id, c.req.valid("json"));
  if (!row) throw noSuchVideo();
  return c.json(describeVideo(row));
});

videos.delete("/:id", videoParam, owner, async (c) => {
  unwrap(await videoObject(c.env, c.req.valid("param").id).purge());
  return c.body(null, 204);
});

videos.get("/:id", videoParam, async (c) => {
  const row = await getVideo(c.env.DB, c.req.valid("param").id);
  if (!row) throw noSuchVideo();
  return c.json(describeVideo(row), 200, { "Cache-Control": "no-store" });
});

videos.get("/:id/source", videoParam, uploadToken, async (c) => {
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
videos.get("/:id/storage", videoParam, administrator, async (c) => {
  const id = c.req.valid("param").id;
  const [row, objects] = await Promise.all([getVideo(c.env.DB, id), storedObjects(c.env.VIDEOS, id)]);
  if (!row && objects.length === 0) throw noSuchVideo();
  return c.json(describeStorage(id, objects, row?.playbackJob ?? null), 200, { "Cache-Control": "no-store" });
});

/** `attachment` with the user's filename, safely encoded (RFC 6266 / 8187). */
function attachment(filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]|["\\]/g, "_");
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}`;
}

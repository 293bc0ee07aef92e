/**
 * `/api/videos`: search and listing, a video's public description and
 * status, its owner's edits and deletion, and the owner's download of the
 * original file, byte for byte.
 */
import { Hono, type Context } from "hono";
import { readConfig } from "../config.ts";
import { getVideo, updateVideo } from "../db/videos.ts";
import type { VideoRow } from "../db/schema.ts";
import { safeEqual } from "../crypto/tokens.ts";
import { apiError, unwrap } from "../http/errors.ts";
import { jsonBody, parse } from "../http/validate.ts";
import { listVideos } from "../search/list.ts";
import { serveObject } from "../storage/serve.ts";
import { coordinator, requireToken, videoIdParam } from "../uploads/upload-routes.ts";
import { ListQuerySchema, VideoPatchSchema } from "../contracts/video.ts";

export const videos = new Hono<{ Bindings: Env }>();

videos.get("/", async (c) => {
  const query = parse(ListQuerySchema, c.req.query());
  const { items, nextCursor } = await listVideos(c.env.DB, query);
  const origin = new URL(c.req.url).origin;
  return c.json(
    {
      items: items.map(({ row, highlight }) => ({
        ...describeVideo(row, origin),
        ...(highlight ? { highlight } : {}),
      })),
      nextCursor,
    },
    200,
    { "Cache-Control": "public, max-age=5" },
  );
});

videos.patch("/:id", async (c) => {
  const id = videoIdParam(c, "id");
  await requireOwner(c, id);
  const changes = await jsonBody(c, VideoPatchSchema);
  const row = await updateVideo(c.env.DB, id, changes);
  if (!row) throw apiError("not_found", "No such video.");
  return c.json(describeVideo(row, new URL(c.req.url).origin));
});

videos.delete("/:id", async (c) => {
  const id = videoIdParam(c, "id");
  await requireOwner(c, id);
  unwrap(await coordinator(c, id).purge());
  return c.body(null, 204);
});

videos.get("/:id", async (c) => {
  const row = await getVideo(c.env.DB, videoIdParam(c, "id"));
  if (!row) throw apiError("not_found", "No such video.");
  return c.json(describeVideo(row, new URL(c.req.url).origin), 200, { "Cache-Control": "no-store" });
});

videos.get("/:id/source", async (c) => {
  const id = videoIdParam(c, "id");
  const source = unwrap(await coordinator(c, id).source(requireToken(c)));
  return serveObject(c.req.raw, c.env.VIDEOS, source.r2Key, {
    contentType: source.contentType,
    cacheControl: "private, no-store",
    headers: { "Content-Disposition": attachment(source.filename) },
  });
});

/** The public shape of a video, shared by every endpoint that returns one. */
export function describeVideo(row: VideoRow, origin: string) {
  const inProgress = row.status === "processing" || (row.status === "ready" && !row.ladderComplete);
  return {
    id: row.id,
    title: row.title,
    description: row.description,
    tags: row.tags,
    status: row.status,
    visibility: row.visibility,
    ...(inProgress ? { progress: row.progress ?? 0 } : {}),
    ...(row.error ? { error: row.error } : {}),
    durationSec: row.durationSec,
    width: row.width,
    height: row.height,
    frameRate: row.frameRate,
    renditions: (row.renditions ?? []).map((r) => ({
      name: r.name,
      width: r.width,
      height: r.height,
      bandwidth: r.bandwidth,
      bytes: r.bytes,
    })),
    createdAt: new Date(row.createdAt).toISOString(),
    playback: {
      hls: row.playbackJob ? `${origin}/videos/${row.id}/master.m3u8` : null,
      poster: row.playbackJob ? `${origin}/videos/${row.id}/${row.playbackJob}/poster.jpg` : null,
    },
  };
}

/** The video's owner (its upload token) or the operator (`API_TOKEN`); 401 otherwise. */
async function requireOwner(c: Context<{ Bindings: Env }>, id: string): Promise<void> {
  const token = requireToken(c);
  const { apiToken } = readConfig(c.env);
  if (apiToken !== undefined && (await safeEqual(token, apiToken))) return;
  unwrap(await coordinator(c, id).authorizeOwner(token));
}

/** `attachment` with the user's filename, safely encoded (RFC 6266 / 8187). */
function attachment(filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]|["\\]/g, "_");
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}`;
}

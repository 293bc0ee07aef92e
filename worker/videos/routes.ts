/**
 * `/api/videos`: a video's public description and status, and the owner's
 * download of the original file, byte for byte.
 */
import { Hono } from "hono";
import { getVideo } from "../db/videos.ts";
import type { VideoRow } from "../db/schema.ts";
import { apiError, unwrap } from "../http/errors.ts";
import { serveObject } from "../storage/serve.ts";
import { coordinator, requireToken, videoIdParam } from "../uploads/routes.ts";

export const videos = new Hono<{ Bindings: Env }>();

videos.get("/:id", async (c) => {
  const row = await getVideo(c.env.DB, videoIdParam(c, "id"));
  if (!row) throw apiError(404, "not_found", "No such video.");
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
    ...(inProgress ? { progress: row.progress ?? 0 } : {}),
    ...(row.error ? { error: row.error } : {}),
    durationSec: row.durationSec,
    width: row.width,
    height: row.height,
    frameRate: row.frameRate,
    renditions: (row.renditions ?? []).map((r) => ({ name: r.name, width: r.width, height: r.height, bandwidth: r.bandwidth, bytes: r.bytes })),
    createdAt: new Date(row.createdAt).toISOString(),
    playback: {
      hls: row.playbackJob ? `${origin}/videos/${row.id}/master.m3u8` : null,
      poster: row.playbackJob ? `${origin}/videos/${row.id}/${row.playbackJob}/poster.jpg` : null,
    },
  };
}

/** `attachment` with the user's filename, safely encoded (RFC 6266 / 8187). */
function attachment(filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]|["\\]/g, "_");
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}`;
}

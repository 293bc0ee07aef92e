/**
 * `/videos/:id/thumbnail.jpg` and `/videos/:id/storyboard.vtt`: the ladder's
 * frames (one every 2 s, where its keyframes are; contracts/storyboard.ts)
 * by time and width, and the WebVTT storyboard of their sprite sheets.
 *
 * Both URLs name no job, so what they answer changes when the video is
 * processed again: they are kept 5 minutes, as the poster's alias is, while
 * the sheets the storyboard names are job URLs, immutable (playback-routes.ts).
 * Who may fetch them, and how long a private video's may be kept, is
 * playback-access.ts's to say, as for every media route.
 */
import { Hono } from "hono";
import { describeRoute } from "hono-openapi";
import { z } from "zod";
import { decimalInt } from "../contracts/decimal-int.ts";
import { frameFile, frameWidthFor, nearestFrame, STORYBOARD_FILE } from "../contracts/storyboard.ts";
import type { VideoRow } from "../db/schema.ts";
import { getVideo } from "../db/videos.ts";
import { apiError } from "../http/errors.ts";
import { noSuchVideo, videoParam } from "../http/params.ts";
import { validQuery } from "../http/validate.ts";
import { servedFile } from "../openapi/docs.ts";
import { jobFileKey } from "../storage/keys.ts";
import { serveBytes, serveObject } from "../storage/serve.ts";
import { mediaAccess, tokenizedStoryboard } from "./playback-access.ts";
import { PlaybackTokenQuerySchema } from "../contracts/playback-token.ts";

export const frameRoutes = new Hono<{ Bindings: Env }>();

const REFUSALS = [
  "not_found",
  "not_ready",
  "playback_token_required",
  "playback_token_invalid",
  "private_playback_unavailable",
  "changed",
] as const;

/** Seconds as people write them: digits, maybe a fraction; no sign, exponent or hex. */
const seconds = z
  .string()
  .regex(/^[0-9]{1,7}(?:\.[0-9]{1,6})?$/, "must be seconds written as a decimal number, such as 12 or 12.5")
  .transform(Number);

const ThumbnailQuerySchema = PlaybackTokenQuerySchema.extend({
  time: seconds
    .optional()
    .describe(
      "Seconds into the video; the nearest frame answers, past the end the last. The owner's poster time by default, else 0.",
    ),
  width: decimalInt(1, 100_000)
    .optional()
    .describe(
      "The most pixels wide the picture may be: the largest stored width not wider answers (never upscaled; the smallest when all are wider). The largest by default.",
    ),
});

/** The video's row, if the request may see its media, with the frames of its playback job; or why not. */
async function framesOf(env: Env, id: string, token: string | undefined) {
  const row = await getVideo(env.DB, id);
  if (!row) throw noSuchVideo();
  const access = await mediaAccess(env, row, token);
  if (!row.playbackJob || !row.frames) throw notYet(row);
  return { row, job: row.playbackJob, frames: row.frames, access };
}

/**
 * No frames: not yet (they are written with the ladder, or with the first
 * rendition of a small video), or never, for a video processed before frames were.
 */
function notYet(row: VideoRow) {
  if (row.playbackJob && row.ladderComplete)
    return apiError("not_found", "This video has no frames: it was processed before they were made.");
  return apiError("not_ready", `The video is ${row.status}; its frames are written as its ladder is.`, {
    status: row.status,
  });
}

const thumbnailDocs = describeRoute({
  tags: ["playback"],
  operationId: "getThumbnail",
  summary: "A frame of the video",
  description:
    "The stored frame nearest `time` (frames are every 2 s, at 160, 320, 640 and 1280 pixels wide, never wider than the video), at the largest width not over `width`. `409 not_ready` until the frames are written (`playback.thumbnail` is null until then). Cached 5 minutes: the URL names no job.",
  ...servedFile(["image/jpeg"], "The frame.", "invalid_request", ...REFUSALS),
});

frameRoutes.get("/:id/thumbnail.jpg", thumbnailDocs, videoParam, validQuery(ThumbnailQuerySchema), async (c) => {
  const { id } = c.req.valid("param");
  const query = c.req.valid("query");
  const { row, job, frames, access } = await framesOf(c.env, id, query.token);
  const time = query.time ?? row.posterTime ?? 0;
  const file = frameFile(frameWidthFor(frames, query.width), nearestFrame(frames, time));
  return serveObject(c.req.raw, c.env.VIDEOS, jobFileKey(id, job, file), {
    contentType: "image/jpeg",
    cacheControl: access.caching.posterAlias,
  });
});

const storyboardDocs = describeRoute({
  tags: ["playback"],
  operationId: "getStoryboard",
  summary: "The storyboard",
  description:
    "A WebVTT storyboard for seek-bar previews: a cue per frame (every 2 s), its text a sprite sheet's URL with `#xywh=x,y,w,h` the tile, as Mux's and many players' storyboards are. The sheets' URLs name the job and are immutable. `409 not_ready` until the frames are written.",
  ...servedFile(["text/vtt"], "The storyboard.", ...REFUSALS),
});

frameRoutes.get("/:id/storyboard.vtt", storyboardDocs, videoParam, validQuery(PlaybackTokenQuerySchema), async (c) => {
  const { id } = c.req.valid("param");
  const { job, access } = await framesOf(c.env, id, c.req.valid("query").token);
  const object = await c.env.VIDEOS.get(jobFileKey(id, job, STORYBOARD_FILE));
  if (!object) throw apiError("not_found", "The storyboard is missing.");
  // Stored relative to the job; served naming it, so each sheet's URL is one that never changes.
  const vtt = (await object.text()).replace(/^frames\//gm, `/videos/${id}/${job}/frames/`);
  const body = new TextEncoder().encode(tokenizedStoryboard(vtt, access.token));
  return serveBytes(c.req.raw, body, {
    contentType: "text/vtt; charset=utf-8",
    cacheControl: access.caching.posterAlias,
    etag: `"${await shortDigest(body)}"`,
  });
});

/** The first 16 bytes of the body's SHA-256, in hex: an entity tag that changes with the job and the token. */
async function shortDigest(body: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", body));
  return Array.from(digest.subarray(0, 16), (b) => b.toString(16).padStart(2, "0")).join("");
}

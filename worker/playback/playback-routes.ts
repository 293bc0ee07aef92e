/**
 * `/videos/:id/…`: what players fetch. The master playlist is served from the
 * video's current playback job, with its variant and audio rendition URIs
 * rewritten to include the job id (master-playlist.ts), so every URL below
 * it names bytes that never change and can be cached for a year; the master
 * itself is short-lived until the ladder is final.
 *
 * Every route reads the video's row first: a job's files are served only
 * while the video exists and that job is its playback job, so a deleted
 * video's media (or a superseded job's, should an object outlive the sweep)
 * is never served again. Unlisted videos are cached `private`: a shared cache
 * must not keep what only holders of the link may see.
 */
import { Hono } from "hono";
import { describeRoute } from "hono-openapi";
import { z } from "zod";
import { VideoIdSchema } from "../contracts/video.ts";
import type { VideoRow } from "../db/schema.ts";
import { getVideo } from "../db/videos.ts";
import { apiError } from "../http/errors.ts";
import { noSuchVideo, videoParam } from "../http/params.ts";
import { validParams } from "../http/validate.ts";
import { servedFile } from "../openapi/docs.ts";
import { JobFileSchema, JobIdSchema, jobFileKey } from "../storage/keys.ts";
import { serveBytes, serveObject } from "../storage/serve.ts";
import { withJobPrefix } from "./master-playlist.ts";

export const playback = new Hono<{ Bindings: Env }>();

/** How long each kind of answer may be kept, by the video's visibility. */
const CACHING = {
  public: {
    growing: "public, max-age=2",
    finalMaster: "public, max-age=86400",
    posterAlias: "public, max-age=300",
    playlist: "public, max-age=31536000",
    media: "public, max-age=31536000, immutable",
  },
  // The browser alone may keep these, and not for long: a video made unlisted
  // or deleted stops playing from caches within the hour.
  unlisted: {
    growing: "private, max-age=2",
    finalMaster: "private, max-age=3600",
    posterAlias: "private, max-age=300",
    playlist: "private, max-age=3600",
    media: "private, max-age=3600",
  },
} as const satisfies Record<VideoRow["visibility"], Record<string, string>>;

const PLAYLIST = "application/vnd.apple.mpegurl";

const masterDocs = describeRoute({
  tags: ["playback"],
  operationId: "getMasterPlaylist",
  summary: "The master playlist",
  description:
    "The HLS master playlist of the video's current ladder: a player's URL. Its variant and audio URIs name the job, so everything below it never changes. Cached 2 seconds while the ladder grows, a day once final (`private` for an unlisted video).",
  ...servedFile([PLAYLIST], "The playlist.", "not_found", "not_ready"),
});

playback.get("/:id/master.m3u8", masterDocs, videoParam, async (c) => {
  const { id } = c.req.valid("param");
  const row = await getVideo(c.env.DB, id);
  if (!row) throw noSuchVideo();
  if (!row.playbackJob)
    throw apiError("not_ready", `The video is ${row.status}; it is not playable yet.`, { status: row.status });
  const object = await c.env.VIDEOS.get(jobFileKey(id, row.playbackJob, "master.m3u8"));
  if (!object) throw apiError("not_found", "The playlist is missing.");
  const master = new TextEncoder().encode(withJobPrefix(await object.text(), row.playbackJob));
  const caching = CACHING[row.visibility];
  // Once final, the job's master never changes again; until then it follows the R2 object.
  return serveBytes(c.req.raw, master, {
    contentType: "application/vnd.apple.mpegurl",
    cacheControl: row.ladderComplete ? caching.finalMaster : caching.growing,
    etag: `"${row.playbackJob}-${row.ladderComplete ? "final" : object.etag}"`,
  });
});

const posterDocs = describeRoute({
  tags: ["playback"],
  operationId: "getPoster",
  summary: "The poster",
  description:
    "The poster of the video's current job, cached for 5 minutes: the job's own URL is the one kept for a year.",
  ...servedFile(["image/jpeg"], "The poster.", "not_found", "changed"),
});

playback.get("/:id/poster.jpg", posterDocs, videoParam, async (c) => {
  const { id } = c.req.valid("param");
  const row = await getVideo(c.env.DB, id);
  if (!row?.playbackJob) throw apiError("not_found", "No poster yet.");
  return serveObject(c.req.raw, c.env.VIDEOS, jobFileKey(id, row.playbackJob, "poster.jpg"), {
    cacheControl: CACHING[row.visibility].posterAlias,
  });
});

const noSuchFile = () => apiError("not_found", "No such file.");

/** `:id` and `:job`; a malformed one of either names nothing. */
const jobParams = validParams(z.object({ id: VideoIdSchema, job: JobIdSchema }), (issues) =>
  issues.some((i) => i.path[0] === "id") ? noSuchVideo() : noSuchFile(),
);

const ladderFile = servedFile([PLAYLIST, "video/mp4", "image/jpeg"], "The file.", "not_found", "changed");
const fileDocs = describeRoute({
  tags: ["playback"],
  operationId: "getPlaybackFile",
  summary: "A file of the ladder",
  description:
    "Media playlists, init segments, segments and the poster of the video's playback job, as the master playlist names them; immutable once the ladder is final. Served only while the video exists and that job is its playback job.",
  ...ladderFile,
  parameters: [
    {
      in: "path",
      name: "file",
      required: true,
      description:
        "The file's path in the job: `<rendition>/index.m3u8`, `<rendition>/init.mp4`, `<rendition>/seg_00001.m4s`, `poster.jpg`.",
      schema: { type: "string" },
    },
    ...ladderFile.parameters,
  ],
});

/** Media playlists, init segments, segments and posters of the video's playback job: immutable once the ladder is final. */
playback.get("/:id/:job/:file{.+}", fileDocs, jobParams, async (c) => {
  const { id, job } = c.req.valid("param");
  const file = JobFileSchema.safeParse(decodedPath(c.req.path.slice(`/videos/${id}/${job}/`.length)));
  if (!file.success) throw noSuchFile();
  const row = await getVideo(c.env.DB, id);
  if (!row) throw noSuchVideo();
  if (row.playbackJob !== job) throw noSuchFile();
  const caching = CACHING[row.visibility];
  // Until the ladder is final, the first-playable playlists may still grow (EVENT playlists, transcoder/growing-publisher.ts).
  const playlist = row.ladderComplete ? caching.playlist : caching.growing;
  return serveObject(c.req.raw, c.env.VIDEOS, jobFileKey(id, job, file.data), {
    cacheControl: file.data.endsWith(".m3u8") ? playlist : caching.media,
  });
});

/** The path's text, or undefined when its percent-encoding is malformed (`%`, `%zz`): such a path names no file. */
function decodedPath(path: string): string | undefined {
  try {
    return decodeURIComponent(path);
  } catch {
    return undefined;
  }
}

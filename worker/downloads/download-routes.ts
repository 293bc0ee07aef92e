/**
 * `/videos/:id/download.mp4` and `/videos/:id/audio.m4a`: the video as one
 * faststart MP4 (the top rung up to 1080p with the default audio track) and
 * its audio alone, copied from the ladder's segments by a package task
 * (video-object/downloads.ts), for viewers to keep. Served only while the
 * owner allows downloads: D1's `downloadable` is read on every request, so
 * turning it off stops them at once, and caches must ask again each time
 * (`no-cache`; a revalidation with the `ETag` still spares the bytes).
 * Only public videos' downloads may be kept by shared caches. A private
 * video's need a playback token that allows downloads (`pd`), as its media
 * need one (playback/playback-access.ts).
 */
import type { Context } from "hono";
import { Hono } from "hono";
import { describeRoute } from "hono-openapi";
import { AUDIO_DOWNLOAD_FILE, DOWNLOAD_FILE } from "../contracts/job.ts";
import { getVideo } from "../db/videos.ts";
import { apiError } from "../http/errors.ts";
import { noSuchVideo, videoParam } from "../http/params.ts";
import { validQuery } from "../http/validate.ts";
import { PlaybackTokenQuerySchema } from "../contracts/playback-token.ts";
import { header, servedFile } from "../openapi/docs.ts";
import { mediaAccess } from "../playback/playback-access.ts";
import { jobFileKey } from "../storage/keys.ts";
import { serveObject } from "../storage/serve.ts";
import { attachmentNamed } from "../http/content-disposition.ts";

export const downloads = new Hono<{ Bindings: Env }>();

/** How long a client asking for downloads still being made is told to wait. */
const PREPARING_RETRY_SECONDS = 10;

type Download = { file: string; contentType: string; extension: string };
const VIDEO: Download = { file: DOWNLOAD_FILE, contentType: "video/mp4", extension: ".mp4" };
const AUDIO: Download = { file: AUDIO_DOWNLOAD_FILE, contentType: "audio/mp4", extension: ".m4a" };

const REFUSALS = [
  "not_found",
  "playback_token_required",
  "playback_token_invalid",
  "private_playback_unavailable",
  "downloads_disabled",
  "not_ready",
  "downloads_failed",
  "changed",
] as const;
const disposition = {
  "Content-Disposition": header("`attachment`, named after the title (`filename` and `filename*=UTF-8''…`)."),
};

const downloadDocs = describeRoute({
  tags: ["playback"],
  operationId: "getDownload",
  summary: "The video as an MP4 file",
  description:
    "The top rendition up to 1080p with the default audio track, as one MP4 whose index comes first, copied from the ladder without re-encoding; an attachment named after the title. Only while the owner allows downloads (`403 downloads_disabled` otherwise); `409 not_ready` while it is being made, with `Retry-After`.",
  ...withHeaders(servedFile(["video/mp4"], "The MP4.", ...REFUSALS)),
});

const tokenQuery = validQuery(PlaybackTokenQuerySchema);

downloads.get("/:id/download.mp4", downloadDocs, videoParam, tokenQuery, (c) => serveDownload(c, VIDEO));

const audioDocs = describeRoute({
  tags: ["playback"],
  operationId: "getAudioDownload",
  summary: "The video's audio as an M4A file",
  description:
    "The default audio track alone, copied without re-encoding, by the same rules as `download.mp4`; `404 not_found` for a video without audio.",
  ...withHeaders(servedFile(["audio/mp4"], "The M4A.", ...REFUSALS)),
});

downloads.get("/:id/audio.m4a", audioDocs, videoParam, tokenQuery, (c) => serveDownload(c, AUDIO));

type DownloadContext = Context<
  { Bindings: Env },
  string,
  { out: { param: { id: string }; query: { token?: string | undefined } } }
>;

async function serveDownload(c: DownloadContext, download: Download): Promise<Response> {
  const { id } = c.req.valid("param");
  const row = await getVideo(c.env.DB, id);
  if (!row) throw noSuchVideo();
  const access = await mediaAccess(c.env, row, c.req.valid("query").token);
  if (access.rights === "p")
    throw apiError("playback_token_invalid", "This playback token plays the video but does not download it.", {
      reason: "invalid",
    });
  if (!row.downloadable) throw apiError("downloads_disabled", "The owner does not allow downloads of this video.");
  const made = row.downloads;
  // Downloads of another job than the one that plays are stale: the new ladder's are on their way.
  const current = made && row.ladderComplete && made.jobId === row.playbackJob ? made : null;
  if (current?.state === "failed") {
    const reason = current.error ?? "The downloads could not be made.";
    throw apiError("downloads_failed", reason, { reason });
  }
  if (current?.state !== "ready") {
    if (!row.ladderComplete)
      throw apiError("not_ready", `The video is ${row.status}; its downloads are made once it is processed.`, {
        status: row.status,
      });
    throw apiError("not_ready", "The downloads are being prepared; try again shortly.", {
      status: row.status,
      retryAfter: PREPARING_RETRY_SECONDS,
    });
  }
  if (download === AUDIO && (row.audioTracks ?? []).length === 0)
    throw apiError("not_found", "The video has no audio.");
  return serveObject(c.req.raw, c.env.VIDEOS, jobFileKey(id, current.jobId, download.file), {
    contentType: download.contentType,
    cacheControl: row.visibility === "public" ? "public, no-cache" : "private, no-cache",
    headers: { "Content-Disposition": attachmentNamed(row.title, download.extension) },
  });
}

/** `servedFile`'s docs with `Content-Disposition` on the answers that carry the file. */
function withHeaders(docs: ReturnType<typeof servedFile>): ReturnType<typeof servedFile> {
  const { 200: whole, 206: part, ...rest } = docs.responses;
  return {
    ...docs,
    responses: {
      ...rest,
      200: { ...whole, headers: disposition },
      206: { ...part, headers: { ...part.headers, ...disposition } },
    },
  };
}

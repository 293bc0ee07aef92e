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
 * is never served again. Who may fetch a video's media, and how long an
 * answer may be kept, is playback-access.ts's to say: unlisted videos are
 * cached `private` (a shared cache must not keep what only holders of the link
 * may see), and a private video's media need a playback token, which every
 * playlist served with one carries into the URLs it names.
 */
import { Hono } from "hono";
import { describeRoute } from "hono-openapi";
import { z } from "zod";
import { VideoIdSchema } from "../contracts/video.ts";
import { AUDIO_DOWNLOAD_FILE, DOWNLOAD_FILE } from "../contracts/job.ts";
import { getVideo } from "../db/videos.ts";
import { apiError } from "../http/errors.ts";
import { noSuchVideo, videoParam } from "../http/params.ts";
import { validParams, validQuery } from "../http/validate.ts";
import { PlaybackTokenQuerySchema } from "../contracts/playback-token.ts";
import { mediaAccess, tokenizedPlaylist } from "./playback-access.ts";
import { servedFile } from "../openapi/docs.ts";
import { captionKey, JobFileSchema, JobIdSchema, jobFileKey } from "../storage/keys.ts";
import { serveBytes, serveObject } from "../storage/serve.ts";
import { posterFile } from "../contracts/storyboard.ts";
import { withJobPrefix, withSubtitles } from "./master-playlist.ts";
import { CaptionLangSchema } from "../contracts/captions.ts";
import { getTrack, listTracks, tracksVersion } from "../captions/caption-tracks.ts";
import { subtitlePlaylist, timestampMapMpegts, withTimestampMap } from "../captions/subtitle-playlist.ts";

export const playback = new Hono<{ Bindings: Env }>();

const PLAYLIST = "application/vnd.apple.mpegurl";

/** Why a request for a private video's media is refused (playback-access.ts). */
const TOKEN_REFUSALS = ["playback_token_required", "playback_token_invalid", "private_playback_unavailable"] as const;
const tokenQuery = validQuery(PlaybackTokenQuerySchema);

const masterDocs = describeRoute({
  tags: ["playback"],
  operationId: "getMasterPlaylist",
  summary: "The master playlist",
  description:
    "The HLS master playlist of the video's current ladder: a player's URL. Its variant and audio URIs name the job, so everything below it never changes; each caption track is an `EXT-X-MEDIA TYPE=SUBTITLES` in the group `subs`. Cached 2 seconds while the ladder grows, 5 minutes once final (`private` for an unlisted video); its ETag changes with the caption tracks.",
  ...servedFile([PLAYLIST], "The playlist.", "not_found", "not_ready", ...TOKEN_REFUSALS),
});

playback.get("/:id/master.m3u8", masterDocs, videoParam, tokenQuery, async (c) => {
  const { id } = c.req.valid("param");
  const [row, tracks] = await Promise.all([getVideo(c.env.DB, id), listTracks(c.env.DB, id)]);
  if (!row) throw noSuchVideo();
  const access = await mediaAccess(c.env, row, c.req.valid("query").token);
  if (!row.playbackJob)
    throw apiError("not_ready", `The video is ${row.status}; it is not playable yet.`, { status: row.status });
  const object = await c.env.VIDEOS.get(jobFileKey(id, row.playbackJob, "master.m3u8"));
  if (!object) throw apiError("not_found", "The playlist is missing.");
  const subtitles = tracks.map((t) => ({ lang: t.lang, label: t.label, uri: `/videos/${id}/captions/${t.lang}.m3u8` }));
  const master = new TextEncoder().encode(
    tokenizedPlaylist(withSubtitles(withJobPrefix(await object.text(), row.playbackJob), subtitles), access.token),
  );
  const { caching } = access;
  // Once final, the job's master never changes again, but the caption tracks it names may, and
  // the token it carries differs by viewer; until then it follows the R2 object.
  const captioned = tracks.length > 0 ? `-c${tracksVersion(tracks)}` : "";
  return serveBytes(c.req.raw, master, {
    contentType: "application/vnd.apple.mpegurl",
    cacheControl: row.ladderComplete ? caching.finalMaster : caching.growing,
    etag: `"${row.playbackJob}-${row.ladderComplete ? "final" : object.etag}${captioned}${tokenTag(access.token)}"`,
  });
});

const posterDocs = describeRoute({
  tags: ["playback"],
  operationId: "getPoster",
  summary: "The poster",
  description:
    "The poster of the video's current job, cached for 5 minutes: the job's own URL is the one kept for a year.",
  ...servedFile(["image/jpeg"], "The poster.", "not_found", "changed", ...TOKEN_REFUSALS),
});

playback.get("/:id/poster.jpg", posterDocs, videoParam, tokenQuery, async (c) => {
  const { id } = c.req.valid("param");
  const row = await getVideo(c.env.DB, id);
  if (!row) throw noSuchVideo();
  const access = await mediaAccess(c.env, row, c.req.valid("query").token);
  if (!row.playbackJob) throw apiError("not_found", "No poster yet.");
  return serveObject(c.req.raw, c.env.VIDEOS, jobFileKey(id, row.playbackJob, posterFile(row)), {
    cacheControl: access.caching.posterAlias,
  });
});

const noSuchFile = () => apiError("not_found", "No such file.");

/**
 * `:id` and `:file`, a caption track's `<lang>.m3u8` or `<lang>.vtt`; the
 * language in any case (`pt-br` is `pt-BR`). Anything else names nothing.
 */
const captionParams = validParams(
  z.object({
    id: VideoIdSchema,
    file: z
      .string()
      .regex(/^[A-Za-z0-9-]{2,35}\.(?:m3u8|vtt)$/)
      .transform((file, ctx) => {
        const dot = file.lastIndexOf(".");
        const lang = CaptionLangSchema.safeParse(file.slice(0, dot));
        if (!lang.success) {
          ctx.addIssue({ code: "custom", message: "not a language tag" });
          return z.NEVER;
        }
        return { lang: lang.data, kind: file.slice(dot + 1) as "m3u8" | "vtt" };
      }),
  }),
  (issues) => (issues.some((i) => i.path[0] === "id") ? noSuchVideo() : noSuchFile()),
);

/**
 * The video, what the request may see of it, and its track in `lang`, or
 * 404: the access first, so that a private video's languages are not told to
 * whoever asks without a token.
 */
async function captionTrackOf(env: Env, id: string, lang: string, token: string | undefined) {
  const [row, track] = await Promise.all([getVideo(env.DB, id), getTrack(env.DB, id, lang)]);
  if (!row) throw noSuchVideo();
  const access = await mediaAccess(env, row, token);
  if (!track) throw apiError("not_found", `The video has no captions in ${lang}.`);
  return { row, track, access };
}

const captionFileParam = {
  in: "path" as const,
  name: "file",
  required: true,
  description: "`<lang>.m3u8` (the media playlist) or `<lang>.vtt` (the WebVTT file), `lang` a BCP 47 tag.",
  schema: { type: "string" as const },
};
const captionServed = servedFile(
  [PLAYLIST, "text/vtt"],
  "The playlist or the file.",
  "not_found",
  "changed",
  ...TOKEN_REFUSALS,
);
const captionDocs = describeRoute({
  tags: ["playback"],
  operationId: "getCaptionFile",
  summary: "A caption track, as players fetch it",
  description:
    "`<lang>.m3u8`: the track's WebVTT media playlist (one segment, the whole file, as long as the video), as the master playlist names it. `<lang>.vtt`: the WebVTT file, with the `X-TIMESTAMP-MAP` header HLS players need. Cached 5 minutes (`private` for an unlisted video).",
  ...captionServed,
  parameters: [captionFileParam, ...captionServed.parameters],
});

playback.get("/:id/captions/:file", captionDocs, captionParams, tokenQuery, async (c) => {
  const { id, file } = c.req.valid("param");
  const { row, track, access } = await captionTrackOf(c.env, id, file.lang, c.req.valid("query").token);
  const { caching } = access;
  if (file.kind === "m3u8") {
    // As long as the video (players reach this playlist from the master, which exists once the duration is known).
    const duration = row.durationSec ?? 0;
    const body = tokenizedPlaylist(subtitlePlaylist(duration, `${track.lang}.vtt`), access.token);
    return serveBytes(c.req.raw, new TextEncoder().encode(body), {
      contentType: PLAYLIST,
      cacheControl: caching.captions,
      etag: `"${tracksVersion([track])}-${Math.round(duration * 1000)}${tokenTag(access.token)}"`,
    });
  }
  const object = await c.env.VIDEOS.get(captionKey(id, track.lang));
  if (!object) throw apiError("not_found", "The caption file is missing.");
  const mpegts = timestampMapMpegts(row.frameRate);
  return serveBytes(c.req.raw, new TextEncoder().encode(withTimestampMap(await object.text(), mpegts)), {
    contentType: "text/vtt; charset=utf-8",
    cacheControl: caching.captions,
    etag: `"${object.etag}-${mpegts}"`,
  });
});

/** `:id` and `:job`; a malformed one of either names nothing. */
const jobParams = validParams(z.object({ id: VideoIdSchema, job: JobIdSchema }), (issues) =>
  issues.some((i) => i.path[0] === "id") ? noSuchVideo() : noSuchFile(),
);

const ladderFile = servedFile(
  [PLAYLIST, "video/mp4", "image/jpeg"],
  "The file.",
  "not_found",
  "changed",
  ...TOKEN_REFUSALS,
);
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
playback.get("/:id/:job/:file{.+}", fileDocs, jobParams, tokenQuery, async (c) => {
  const { id, job } = c.req.valid("param");
  const file = JobFileSchema.safeParse(decodedPath(c.req.path.slice(`/videos/${id}/${job}/`.length)));
  // The downloads live beside the ladder but are served by their own routes, under their own rules.
  if (!file.success || DOWNLOADS.has(file.data)) throw noSuchFile();
  const row = await getVideo(c.env.DB, id);
  if (!row) throw noSuchVideo();
  const access = await mediaAccess(c.env, row, c.req.valid("query").token);
  if (row.playbackJob !== job) throw noSuchFile();
  const { caching } = access;
  // Until the ladder is final, the first-playable playlists may still grow (EVENT playlists, transcoder/growing-publisher.ts).
  const playlist = row.ladderComplete ? caching.playlist : caching.growing;
  const key = jobFileKey(id, job, file.data);
  if (!file.data.endsWith(".m3u8")) return serveObject(c.req.raw, c.env.VIDEOS, key, { cacheControl: caching.media });
  if (!access.token) return serveObject(c.req.raw, c.env.VIDEOS, key, { cacheControl: playlist });
  // A media playlist served with a token names its init segment and segments with it.
  const object = await c.env.VIDEOS.get(key);
  if (!object) throw noSuchFile();
  return serveBytes(c.req.raw, new TextEncoder().encode(tokenizedPlaylist(await object.text(), access.token)), {
    contentType: PLAYLIST,
    cacheControl: playlist,
    etag: `"${object.etag}${tokenTag(access.token)}"`,
  });
});

/** The package task's files (downloads/download-routes.ts serves them, while the owner allows it). */
const DOWNLOADS = new Set([DOWNLOAD_FILE, AUDIO_DOWNLOAD_FILE]);

/** What a playlist's entity tag adds for the token its URLs carry: the token's signature differs by token. */
const tokenTag = (token: string | null) => (token ? `-t${token.slice(-16)}` : "");

/** The path's text, or undefined when its percent-encoding is malformed (`%`, `%zz`): such a path names no file. */
function decodedPath(path: string): string | undefined {
  try {
    return decodeURIComponent(path);
  } catch {
    return undefined;
  }
}

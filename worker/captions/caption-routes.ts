/**
 * `/api/videos/:id/captions`: a video's caption tracks. The owner stores a
 * track per language (WebVTT or SRT, stored as WebVTT) and removes it;
 * anyone who can watch the video lists them (a private one's: its owner, or
 * with a playback token). Players reach the tracks
 * through the master playlist (playback/playback-routes.ts).
 */
import { Hono } from "hono";
import { describeRoute } from "hono-openapi";
import { z } from "zod";
import {
  CaptionLangSchema,
  CaptionPutQuerySchema,
  CaptionTrackSchema,
  CaptionTracksSchema,
  MAX_CAPTION_BYTES,
} from "../contracts/captions.ts";
import { VideoIdSchema } from "../contracts/video.ts";
import { getVideo } from "../db/videos.ts";
import { owner } from "../http/auth.ts";
import { apiError } from "../http/errors.ts";
import { noSuchVideo, videoParam } from "../http/params.ts";
import { validParams, validQuery } from "../http/validate.ts";
import {
  credentials,
  emptyResponse,
  errorResponses,
  header,
  headerParam,
  jsonResponse,
  TOKEN_ERRORS,
} from "../openapi/docs.ts";
import { deleteTrack, describeTrack, listTracks, putTrack } from "./caption-tracks.ts";
import { PlaybackTokenQuerySchema } from "../contracts/playback-token.ts";
import { viewerToken, withToken } from "../playback/playback-access.ts";
import { languageName } from "./language-name.ts";
import { CaptionSyntaxError, decodeCaptionBytes, formatOfType, readCaptions, writeWebVtt } from "./webvtt.ts";

export const captionApi = new Hono<{ Bindings: Env }>();

/**
 * `:id` and `:lang`: a malformed id names no video (404); a malformed
 * language is the caller's mistake to fix (400 `invalid_request`).
 */
const trackParams = validParams(z.object({ id: VideoIdSchema, lang: CaptionLangSchema }), (issues) => {
  if (issues.some((i) => i.path[0] === "id")) return noSuchVideo();
  return apiError("invalid_request", `lang: ${issues[0]?.message ?? "not a language tag"}`, {
    issues: issues.map((i) => ({ path: i.path.join("."), message: i.message })),
  });
});

const listDocs = describeRoute({
  tags: ["captions"],
  operationId: "listCaptions",
  summary: "A video's caption tracks",
  description: "Every caption track of the video, by language, for anyone who can watch it.",
  responses: {
    200: jsonResponse(CaptionTracksSchema, "The tracks.", { "Cache-Control": header("`no-store`.") }),
    ...errorResponses("not_found", "playback_token_required", "playback_token_invalid", "private_playback_unavailable"),
  },
});

captionApi.get("/:id/captions", listDocs, videoParam, validQuery(PlaybackTokenQuerySchema), async (c) => {
  const { id } = c.req.valid("param");
  const [row, tracks] = await Promise.all([getVideo(c.env.DB, id), listTracks(c.env.DB, id)]);
  if (!row) throw noSuchVideo();
  // A private video's tracks only for its owner or a playback token's holder; their URLs then carry a token.
  const token = await viewerToken(c.env, row, c.req.valid("query").token, c.req.header("authorization"));
  const described = tracks.map(describeTrack).map((t) => ({
    ...t,
    vtt: withToken(t.vtt, token),
    playlist: withToken(t.playlist, token),
  }));
  return c.json({ tracks: described }, 200, { "Cache-Control": "no-store" });
});

const putDocs = describeRoute({
  tags: ["captions"],
  operationId: "putCaptions",
  summary: "Store a caption track",
  description:
    "Stores the video's captions in one language, replacing any it had: a WebVTT or SRT file, told apart by `Content-Type` (`text/vtt`; `application/x-subrip`, `text/srt`) or, for any other type, by its content. SRT is converted to WebVTT. At most 5 MiB. A malformed file is refused with `invalid_captions`, whose message and `line` name the line that broke. The cues are searchable at once when the video is public and ready.",
  security: credentials.owner,
  requestBody: {
    description: "The caption file.",
    required: true,
    content: Object.fromEntries(
      ["text/vtt", "application/x-subrip"].map((type) => [type, { schema: { type: "string", format: "binary" } }]),
    ),
  },
  parameters: [headerParam("Content-Type", "`text/vtt`, `application/x-subrip`, or any type for the content to say.")],
  responses: {
    200: jsonResponse(CaptionTrackSchema, "The track, which replaced the language's previous one."),
    201: jsonResponse(CaptionTrackSchema, "The track, the first in its language."),
    ...errorResponses("invalid_request", "invalid_captions", "payload_too_large", ...TOKEN_ERRORS, "not_found"),
  },
});

captionApi.put("/:id/captions/:lang", putDocs, trackParams, owner, validQuery(CaptionPutQuerySchema), async (c) => {
  const { id, lang } = c.req.valid("param");
  if (!(await getVideo(c.env.DB, id))) throw noSuchVideo();
  const bytes = await readCaptionBody(c.req.raw);
  const captions = readCaptionFile(bytes, c.req.header("content-type"));
  const label = c.req.valid("query").label ?? languageName(lang);
  const stored = await putTrack(c.env, { videoId: id, lang, label, cues: captions.cues, vtt: writeWebVtt(captions) });
  if (!stored) throw noSuchVideo();
  return c.json(describeTrack(stored.row), stored.created ? 201 : 200);
});

const deleteDocs = describeRoute({
  tags: ["captions"],
  operationId: "deleteCaptions",
  summary: "Remove a caption track",
  description:
    "Removes the video's captions in that language: the file, its cues from search, its place in the master playlist.",
  security: credentials.owner,
  responses: {
    204: emptyResponse("Removed."),
    ...errorResponses("invalid_request", ...TOKEN_ERRORS, "not_found"),
  },
});

captionApi.delete("/:id/captions/:lang", deleteDocs, trackParams, owner, async (c) => {
  const { id, lang } = c.req.valid("param");
  if (!(await deleteTrack(c.env, id, lang))) throw apiError("not_found", `The video has no captions in ${lang}.`);
  return c.body(null, 204);
});

/** The caption file's bytes, refused (413) as soon as they pass the cap, whether or not `Content-Length` says so. */
async function readCaptionBody(req: Request): Promise<Uint8Array> {
  const tooLarge = () =>
    apiError("payload_too_large", `Caption files are limited to 5 MiB (${MAX_CAPTION_BYTES} bytes).`, {
      limitBytes: MAX_CAPTION_BYTES,
    });
  if (Number(req.headers.get("content-length") ?? "0") > MAX_CAPTION_BYTES) throw tooLarge();
  const pieces: Uint8Array[] = [];
  let total = 0;
  if (req.body) {
    const reader = req.body.getReader();
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      total += r.value.byteLength;
      if (total > MAX_CAPTION_BYTES) {
        await reader.cancel().catch(() => {});
        throw tooLarge();
      }
      pieces.push(r.value);
    }
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const piece of pieces) {
    bytes.set(piece, at);
    at += piece.byteLength;
  }
  return bytes;
}

/** The file read as its type (or content) says; 400 `invalid_captions` naming the line that broke. */
function readCaptionFile(bytes: Uint8Array, contentType: string | undefined) {
  try {
    const text = decodeCaptionBytes(bytes);
    return readCaptions(text, formatOfType(contentType));
  } catch (err) {
    if (err instanceof CaptionSyntaxError) throw apiError("invalid_captions", err.message, { line: err.line });
    throw err;
  }
}

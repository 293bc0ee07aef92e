/**
 * `/api/videos/:id/playback-tokens`: the owner (or the administrator) mints
 * a playback token to share a private video, or revokes every token of the
 * video at once by rotating its key (the next generation). Backends that hold
 * `PLAYBACK_SIGNING_KEY` may mint tokens themselves (playback-token.ts).
 */
import { Hono } from "hono";
import { describeRoute } from "hono-openapi";
import { PlaybackTokenRequestSchema, PlaybackTokenSchema } from "../contracts/playback-token.ts";
import { getVideo, rotatePlaybackKey } from "../db/videos.ts";
import { owner } from "../http/auth.ts";
import { noSuchVideo, videoParam } from "../http/params.ts";
import { validJson } from "../http/validate.ts";
import {
  credentials,
  emptyResponse,
  errorResponses,
  JSON_BODY_ERRORS,
  jsonResponse,
  TOKEN_ERRORS,
} from "../openapi/docs.ts";
import { describeVideo } from "../videos/describe.ts";
import { mintPlaybackToken, withToken } from "./playback-access.ts";

export const playbackTokens = new Hono<{ Bindings: Env }>();

const mintDocs = describeRoute({
  tags: ["playback"],
  operationId: "createPlaybackToken",
  summary: "Mint a playback token",
  description:
    "A signed, expiring token that plays this video, private or not, from its URLs (`?token=`): the master playlist's URL it answers plays in hls.js, Safari and ffmpeg alone. With `downloadable`, it opens the downloads too.",
  security: credentials.owner,
  responses: {
    201: jsonResponse(PlaybackTokenSchema, "The token and the URLs that carry it."),
    ...errorResponses(...JSON_BODY_ERRORS, ...TOKEN_ERRORS, "not_found", "private_playback_unavailable"),
  },
});

playbackTokens.post(
  "/:id/playback-tokens",
  mintDocs,
  videoParam,
  owner,
  validJson(PlaybackTokenRequestSchema),
  async (c) => {
    const row = await getVideo(c.env.DB, c.req.valid("param").id);
    if (!row) throw noSuchVideo();
    const { expiresInSeconds, downloadable } = c.req.valid("json");
    const { token, expiresAt } = await mintPlaybackToken(c.env, row, expiresInSeconds, downloadable ? "pd" : "p");
    const { playback } = describeVideo(row);
    return c.json(
      {
        token,
        expiresAt,
        hls: withToken(`/videos/${row.id}/master.m3u8`, token),
        poster: playback.poster ? withToken(playback.poster, token) : null,
        embed: withToken(`/embed/${row.id}`, token),
      },
      201,
      { "Cache-Control": "no-store" },
    );
  },
);

const revokeDocs = describeRoute({
  tags: ["playback"],
  operationId: "revokePlaybackTokens",
  summary: "Revoke every playback token",
  description:
    "Rotates the video's signing key: every token minted for it so far stops playing it at once (403 `playback_token_invalid`, reason `revoked`); tokens minted afterwards play.",
  security: credentials.owner,
  responses: {
    204: emptyResponse("Every earlier token is revoked."),
    ...errorResponses(...TOKEN_ERRORS, "not_found"),
  },
});

playbackTokens.delete("/:id/playback-tokens", revokeDocs, videoParam, owner, async (c) => {
  if (!(await rotatePlaybackKey(c.env.DB, c.req.valid("param").id))) throw noSuchVideo();
  return c.body(null, 204);
});

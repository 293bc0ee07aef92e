/**
 * `POST /api/videos/:id/playback-tokens`: what an owner asks for to share a
 * private video, and what they get (playback/playback-token.ts has the format).
 */
import { z } from "zod";
import { MAX_PLAYBACK_TOKEN_SECONDS } from "./vocabulary.ts";

export const PlaybackTokenRequestSchema = z
  .object({
    expiresInSeconds: z
      .number()
      .int()
      .min(60)
      .max(MAX_PLAYBACK_TOKEN_SECONDS)
      .default(3600)
      .describe("How long the token plays the video: 60 s to 7 days; an hour by default."),
    downloadable: z
      .boolean()
      .default(false)
      .describe("Whether the token also opens the downloads (when the owner allows them)."),
  })
  .meta({ id: "PlaybackTokenRequest" });
export type PlaybackTokenRequest = z.input<typeof PlaybackTokenRequestSchema>;

export const PlaybackTokenSchema = z
  .object({
    token: z.string(),
    /** ISO 8601. */
    expiresAt: z.string(),
    /** The master playlist's URL with the token: what a player plays. */
    hls: z.string(),
    poster: z.string().nullable(),
    /** The embed page's URL with the token. */
    embed: z.string(),
  })
  .meta({ id: "PlaybackToken" });
export type PlaybackToken = z.infer<typeof PlaybackTokenSchema>;

/** `?token=` on every media URL: a private video's media need it; other videos' ignore it. */
export const PlaybackTokenQuerySchema = z.object({
  token: z
    .string()
    .max(256)
    .optional()
    .describe("A playback token (`POST /api/videos/:id/playback-tokens`): a private video's media need one."),
});

/**
 * Who may fetch a video's media, and for how long an answer may be kept.
 *
 * Every media route (master and media playlists, segments, init segments,
 * posters, thumbnails, storyboards, captions, downloads) reads the video's
 * row and asks `mediaAccess` first, so a change of visibility takes effect
 * at the Worker on the next request. Public and unlisted videos play by URL;
 * a private one only with a playback token (playback-token.ts) for that video,
 * at its current key generation, not expired. The token travels in the URL
 * (`?token=`), not a cookie, so every player plays from the one master URL:
 * each playlist served with a token names its files with that token too
 * (`tokenizedPlaylist`).
 */
import { readConfig } from "../config.ts";
import type { Video } from "../contracts/video.ts";
import type { Visibility } from "../contracts/vocabulary.ts";
import type { VideoRow } from "../db/schema.ts";
import { isOwnerOrAdministrator } from "../http/auth.ts";
import { apiError } from "../http/errors.ts";
import { type PlaybackGrant, type PlaybackRights, signPlaybackToken, verifyPlaybackToken } from "./playback-token.ts";

/** How long each kind of answer may be kept, by the video's visibility. */
export const CACHING = {
  public: {
    growing: "public, max-age=2",
    // Five minutes, not longer: a caption track added to a final ladder changes the master (its ETag says so).
    finalMaster: "public, max-age=300",
    posterAlias: "public, max-age=300",
    captions: "public, max-age=300",
    playlist: "public, max-age=31536000",
    media: "public, max-age=31536000, immutable",
  },
  // The browser alone may keep these, and not for long: a video made unlisted
  // or deleted stops playing from caches within the hour.
  unlisted: {
    growing: "private, max-age=2",
    finalMaster: "private, max-age=300",
    posterAlias: "private, max-age=300",
    captions: "private, max-age=300",
    playlist: "private, max-age=3600",
    media: "private, max-age=3600",
  },
  // Only the viewer's browser, and never past the token's expiry (mediaAccess caps these).
  private: {
    growing: "private, max-age=2",
    finalMaster: "private, max-age=60",
    posterAlias: "private, max-age=300",
    captions: "private, max-age=300",
    playlist: "private, max-age=3600",
    media: "private, max-age=3600",
  },
} as const satisfies Record<Visibility, Record<string, string>>;

export type Caching = { [K in keyof (typeof CACHING)["public"]]: string };

/** What a request may see of a video's media: how to cache it, and the token its URLs must carry. */
export type MediaAccess = {
  caching: Caching;
  /** The playback token every URL the answer names must carry; null for public and unlisted videos. */
  token: string | null;
  /** What the token allows: `pd` includes downloads. Null without a token. */
  rights: PlaybackRights | null;
};

/**
 * The access `token` (from `?token=`) gives to the video's media, or the
 * refusal: `playback_token_required` (401) without one on a private video,
 * `playback_token_invalid` (403, with its `reason`) for a token that does not
 * open it. A token on a public or unlisted video is not needed and not checked.
 */
export async function mediaAccess(
  env: Env,
  row: Pick<VideoRow, "id" | "visibility" | "playbackKeyGeneration">,
  token: string | undefined,
  nowMs = Date.now(),
): Promise<MediaAccess> {
  if (row.visibility !== "private") return { caching: CACHING[row.visibility], token: null, rights: null };
  if (!token)
    throw apiError(
      "playback_token_required",
      "This video is private: it plays only from a link with a playback token (`?token=`).",
    );
  const verdict = await verifyPlaybackToken(signingKey(env), token, row.id, row.playbackKeyGeneration, nowMs);
  if (!verdict.ok) throw apiError("playback_token_invalid", REFUSALS[verdict.refusal], { reason: verdict.refusal });
  const left = Math.max(1, Math.floor(verdict.grant.exp - nowMs / 1000));
  const capped = (value: string) =>
    value.replace(/max-age=(\d+)/, (_, age) => `max-age=${Math.min(Number(age), left)}`);
  const caching = Object.fromEntries(
    Object.entries(CACHING.private).map(([kind, value]) => [kind, capped(value)]),
  ) as Caching;
  return { caching, token, rights: verdict.grant.rights };
}

const REFUSALS = {
  malformed: "The playback token is malformed.",
  invalid: "The playback token is not valid for this video.",
  revoked: "The playback token was revoked: the video's owner rotated its key.",
  expired: "The playback token has expired.",
} as const;

/**
 * Refuses to make a video private where the deployment cannot sign playback
 * tokens: nobody, the owner included, could play it.
 */
export function assertVisibilityPlayable(env: Env, visibility: Visibility | undefined): void {
  if (visibility === "private") signingKey(env);
}

function signingKey(env: Env): string {
  const key = readConfig(env).playbackSigningKey;
  if (!key)
    throw apiError(
      "private_playback_unavailable",
      "Private videos cannot be played here: this deployment has no PLAYBACK_SIGNING_KEY.",
    );
  return key;
}

/** A token for the video at its current key generation, for `seconds`. */
export async function mintPlaybackToken(
  env: Env,
  row: Pick<VideoRow, "id" | "playbackKeyGeneration">,
  seconds: number,
  rights: PlaybackRights,
  nowMs = Date.now(),
): Promise<{ token: string; expiresAt: string }> {
  const grant: PlaybackGrant = {
    videoId: row.id,
    exp: Math.floor(nowMs / 1000) + seconds,
    rights,
    generation: row.playbackKeyGeneration,
  };
  return {
    token: await signPlaybackToken(signingKey(env), grant),
    expiresAt: new Date(grant.exp * 1000).toISOString(),
  };
}

/** How long the owner's own pages play a private video before they ask again. */
const OWNER_TOKEN_SECONDS = 3600;

/**
 * The playback token a private video's URLs carry for this viewer: the one
 * they came with, once checked (a refusal is thrown), or for the owner and
 * the administrator (`Authorization`) a fresh one for an hour, so their pages
 * play; none for them where the deployment cannot sign, so that they can
 * still see and change the video. Public and unlisted videos' URLs carry none.
 */
export async function viewerToken(
  env: Env,
  row: Pick<VideoRow, "id" | "visibility" | "playbackKeyGeneration">,
  presented: string | undefined,
  authorization: string | undefined,
): Promise<string | null> {
  if (row.visibility !== "private") return null;
  if (presented === undefined && (await isOwnerOrAdministrator(env, row.id, authorization))) {
    if (!readConfig(env).playbackSigningKey) return null;
    return (await mintPlaybackToken(env, row, OWNER_TOKEN_SECONDS, "pd")).token;
  }
  return (await mediaAccess(env, row, presented)).token;
}

/** `uri` with the token in its query (left as it is without one). */
export function withToken(uri: string, token: string | null): string {
  if (!token) return uri;
  return `${uri}${uri.includes("?") ? "&" : "?"}token=${encodeURIComponent(token)}`;
}

/**
 * A playlist (master or media) whose every URI carries the token: the URI
 * lines, and the `URI="…"` attributes (`EXT-X-MEDIA`, `EXT-X-MAP`,
 * `EXT-X-I-FRAME-STREAM-INF`). A relative URI resolves against the
 * playlist's URL without its query, so each must carry the token itself.
 */
export function tokenizedPlaylist(playlist: string, token: string | null): string {
  if (!token) return playlist;
  return playlist
    .split("\n")
    .map((line) => {
      const trimmed = line.trim();
      if (trimmed === "") return line;
      if (!trimmed.startsWith("#")) return withToken(trimmed, token);
      return line.replace(/\bURI="([^"]*)"/g, (_, uri: string) => `URI="${withToken(uri, token)}"`);
    })
    .join("\n");
}

/** A WebVTT file whose cue payloads name files (a storyboard's sprites) with the token added. */
export function tokenizedStoryboard(vtt: string, token: string | null): string {
  if (!token) return vtt;
  return vtt.replace(
    /^([^\s#]+\.jpg)(#xywh=[0-9,]+)?$/gm,
    (_, file: string, fragment = "") => `${withToken(file, token)}${fragment}`,
  );
}

/** The video's playback URLs carrying the token, for a viewer who came with one (or an owner given one). */
export function withPlaybackToken(video: Video, token: string | null): Video {
  if (!token) return video;
  const playback = Object.fromEntries(
    Object.entries(video.playback).map(([name, url]) => [name, url === null ? null : withToken(url, token)]),
  ) as Video["playback"];
  return { ...video, playback };
}

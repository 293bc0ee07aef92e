/**
 * A direct creator upload's capability: `<videoId>.<secret>`. The id names
 * the video's object, which holds only the secret's SHA-256; the secret is
 * 32 random bytes, so the capability cannot be guessed from the id.
 */
import { VideoIdSchema } from "../contracts/video.ts";
import { newToken } from "../crypto/tokens.ts";

export function newDirectCapability(videoId: string): { capability: string; secret: string } {
  const secret = newToken();
  return { capability: `${videoId}.${secret}`, secret };
}

/** The video and secret a capability names; undefined when it is not one. */
export function parseDirectCapability(capability: string): { videoId: string; secret: string } | undefined {
  const dot = capability.indexOf(".");
  if (dot < 0) return undefined;
  const videoId = capability.slice(0, dot);
  const secret = capability.slice(dot + 1);
  if (!VideoIdSchema.safeParse(videoId).success || !/^[A-Za-z0-9_-]{16,128}$/.test(secret)) return undefined;
  return { videoId, secret };
}

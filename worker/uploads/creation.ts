/**
 * Creating an upload, whichever way it is asked for: our API
 * (`POST /api/uploads`) or tus (`POST /api/tus`), by the uploader or with a
 * direct creator upload's capability. The video's object decides; this
 * picks the id, the chunk plan and the defaults.
 */
import { assertVisibilityPlayable } from "../playback/playback-access.ts";
import { readConfig } from "../config.ts";
import type { Visibility } from "../contracts/vocabulary.ts";
import { titleFromFilename } from "../contracts/vocabulary.ts";
import { unwrap } from "../http/errors.ts";
import { newVideoId } from "../storage/keys.ts";
import { videoObject } from "../video-object/stub.ts";
import type { DirectUse } from "../video-object/upload.ts";
import { planChunks } from "./chunk-plan.ts";

/** What the client asked for, already validated (contracts/upload.ts `createUploadSchema`). */
export type UploadRequest = {
  filename: string;
  size: number;
  contentType: string;
  title?: string | undefined;
  description?: string | undefined;
  tags?: string[] | undefined;
  visibility: Visibility;
  chunkSize?: number | undefined;
};

/** Who asks: the client's key (for its quota), and the direct upload it holds, if any. */
export type Requester = { clientKey: string; direct?: (DirectUse & { videoId: string }) | undefined };

export async function createUpload(env: Env, request: UploadRequest, requester: Requester, origin: "api" | "tus") {
  const config = readConfig(env);
  assertVisibilityPlayable(env, request.visibility);
  const videoId = requester.direct?.videoId ?? newVideoId();
  const plan = planChunks(request.size, request.chunkSize ?? config.defaultChunkSize);
  const created = unwrap(
    await videoObject(env, videoId).create({
      videoId,
      plan,
      filename: request.filename,
      contentType: request.contentType,
      title: request.title || titleFromFilename(request.filename),
      description: request.description ?? "",
      tags: request.tags ?? [],
      visibility: request.visibility,
      clientKey: requester.clientKey,
      maxReservedBytes: config.maxReservedBytesPerClient,
      origin,
      ...(requester.direct
        ? { direct: { secret: requester.direct.secret, requestOrigin: requester.direct.requestOrigin } }
        : {}),
    }),
  );
  return { videoId, uploadToken: created.uploadToken, snapshot: created.snapshot };
}

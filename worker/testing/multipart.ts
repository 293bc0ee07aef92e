/**
 * The R2 multipart upload behind a video, read from its Durable Object. Parts
 * of an unfinished upload are not objects, so listing the bucket cannot show
 * whether they were dropped; asking R2 to use the upload id again can.
 */
import { env } from "cloudflare:test";
import { expect } from "vitest";
import { inVideoObject } from "./video-object.ts";

export type RecordedMultipart = { key: string; uploadId: string; parts: R2UploadedPart[] };

/** The multipart upload id and the parts the video's Durable Object has recorded so far. */
export function recordedMultipart(videoId: string): Promise<RecordedMultipart> {
  return inVideoObject(videoId, (sql) => {
    const row = sql.exec<{ r2_key: string; r2_upload_id: string }>("SELECT r2_key, r2_upload_id FROM video").one();
    const parts = sql
      .exec<{ n: number; etag: string }>("SELECT n, etag FROM chunks ORDER BY n")
      .toArray()
      .map((r) => ({ partNumber: r.n, etag: r.etag }));
    return { key: row.r2_key, uploadId: row.r2_upload_id, parts };
  });
}

/** R2 no longer knows the upload: no part can be added and the recorded parts cannot be merged. */
export async function expectMultipartGone({ key, uploadId, parts }: RecordedMultipart): Promise<void> {
  const upload = env.VIDEOS.resumeMultipartUpload(key, uploadId);
  await expect(upload.uploadPart(parts.length + 1, new Uint8Array(16))).rejects.toThrow(/does not exist/);
  await expect(upload.complete(parts)).rejects.toThrow(/does not exist/);
  expect(await env.VIDEOS.head(key)).toBeNull();
}

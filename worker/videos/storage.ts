/**
 * What a video stores in R2, for its operator: every object under the
 * video's prefix (the source and each job's outputs), summed per job.
 */
import type { StoredObject, VideoStorage } from "../contracts/video.ts";
import { jobsPrefix, sourceKey, videoPrefix } from "../storage/keys.ts";

/** Every object under the video's prefix, a listing page (≤ 1000 keys) at a time, in key order. */
export async function storedObjects(bucket: R2Bucket, videoId: string): Promise<StoredObject[]> {
  const objects: StoredObject[] = [];
  let cursor: string | undefined;
  do {
    const page = await bucket.list({ prefix: videoPrefix(videoId), cursor, limit: 1000 });
    for (const o of page.objects) objects.push({ key: o.key, bytes: o.size });
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return objects;
}

export function describeStorage(videoId: string, objects: StoredObject[], playbackJob: string | null): VideoStorage {
  const jobs = new Map<string, { jobId: string; objects: number; bytes: number }>();
  const jobKeys = jobsPrefix(videoId);
  for (const o of objects) {
    if (!o.key.startsWith(jobKeys)) continue;
    const jobId = o.key.slice(jobKeys.length).split("/", 1)[0];
    const job = jobs.get(jobId) ?? { jobId, objects: 0, bytes: 0 };
    job.objects += 1;
    job.bytes += o.bytes;
    jobs.set(jobId, job);
  }
  return {
    videoId,
    objects,
    bytes: objects.reduce((sum, o) => sum + o.bytes, 0),
    source: objects.find((o) => o.key === sourceKey(videoId))?.bytes ?? null,
    playbackJob,
    jobs: [...jobs.values()],
  };
}

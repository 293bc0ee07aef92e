/**
 * The video's Durable Object as tests see it: its stub, and its stored state
 * read from inside the object, for what no public call reveals.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { SWEEP_AFTER_MS } from "../video-object/alarm.ts";
import type { VideoObject } from "../video-object/video-object.ts";

export const videoStub = (videoId: string) => env.VIDEO_OBJECTS.getByName(videoId);

/** Runs `sql` inside the video's object, on its own storage. */
export function inVideoObject<T>(videoId: string, read: (sql: SqlStorage) => T): Promise<T> {
  return runInDurableObject(videoStub(videoId), (_o: VideoObject, state) => read(state.storage.sql));
}

/** How many rows each of the object's tables holds; none in a table the object does not have (an emptied object has none). */
export function rowCounts(videoId: string): Promise<Record<string, number>> {
  return inVideoObject(videoId, (sql) => {
    const counts: Record<string, number> = {};
    for (const table of ["video", "chunks", "leases", "contended", "jobs", "tombstone"]) {
      const exists =
        sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", table).toArray().length > 0;
      counts[table] = exists ? sql.exec<{ n: number }>(`SELECT count(*) AS n FROM ${table}`).one().n : 0;
    }
    return counts;
  });
}

/** Moves a deleted video's tombstone back past the sweep delay, as if that long had passed; returns the stub. */
export async function sweepDue(videoId: string) {
  await inVideoObject(videoId, (sql) => sql.exec("UPDATE tombstone SET deleted_at = deleted_at - ?", SWEEP_AFTER_MS));
  return videoStub(videoId);
}

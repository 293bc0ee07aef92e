/** The writes the video's Durable Object makes to its D1 `videos` row. */
import { and, eq, inArray, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import type { VideoStatus } from "../contracts/vocabulary.ts";
import { videos, type NewVideoRow, type VideoRow } from "./schema.ts";

export const database = (db: D1Database) => drizzle(db, { schema: { videos } });

export async function insertVideo(db: D1Database, row: NewVideoRow): Promise<void> {
  await database(db).insert(videos).values(row);
}

export async function setVideoStatus(db: D1Database, id: string, status: VideoStatus, now: number): Promise<void> {
  await updateVideo(db, id, { status }, now);
}

export type VideoUpdate = Partial<Omit<VideoRow, "id" | "createdAt" | "updatedAt">>;

/** Updates the row and returns it as it now is; undefined when there is no such video. */
export async function updateVideo(
  db: D1Database,
  id: string,
  fields: VideoUpdate,
  now = Date.now(),
): Promise<VideoRow | undefined> {
  return database(db)
    .update(videos)
    .set({ ...fields, updatedAt: now })
    .where(eq(videos.id, id))
    .returning()
    .get();
}

export async function getVideo(db: D1Database, id: string): Promise<VideoRow | undefined> {
  return database(db).select().from(videos).where(eq(videos.id, id)).get();
}

/**
 * The video's next playback key generation: every playback token signed at an
 * earlier one is revoked. One statement, so two rotations at once make two
 * generations. False when there is no such video.
 */
export async function rotatePlaybackKey(db: D1Database, id: string, now = Date.now()): Promise<boolean> {
  const rotated = await database(db)
    .update(videos)
    .set({ playbackKeyGeneration: sql`${videos.playbackKeyGeneration} + 1`, updatedAt: now })
    .where(eq(videos.id, id))
    .returning({ id: videos.id })
    .get();
  return rotated !== undefined;
}

/** Removes the row; triggers remove its search entry and tags. */
export async function deleteVideoRow(db: D1Database, id: string): Promise<void> {
  await database(db).delete(videos).where(eq(videos.id, id));
}

/** The bytes reserved by a client's unfinished uploads and imports: the sizes of its `uploading` and `importing` rows. */
export async function reservedBytes(db: D1Database, clientKey: string): Promise<number> {
  const row = await database(db)
    .select({ bytes: sql<number>`coalesce(sum(${videos.size}), 0)` })
    .from(videos)
    .where(and(eq(videos.clientKey, clientKey), inArray(videos.status, ["uploading", "importing"])))
    .get();
  return Number(row?.bytes ?? 0);
}

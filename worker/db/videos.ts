/** The few writes the upload coordinator makes to the D1 `videos` row. */
import { eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { videos, type NewVideoRow, type VideoStatus } from "./schema.ts";

export const database = (db: D1Database) => drizzle(db, { schema: { videos } });

export async function insertVideo(db: D1Database, row: NewVideoRow): Promise<void> {
  await database(db).insert(videos).values(row);
}

export async function setVideoStatus(
  db: D1Database,
  id: string,
  status: VideoStatus,
  now: number,
): Promise<void> {
  await database(db).update(videos).set({ status, updatedAt: now }).where(eq(videos.id, id));
}

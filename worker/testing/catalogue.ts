/**
 * Videos written straight to D1 as processing leaves them, for tests of
 * listing and search (which only read D1). Each is created a second after the
 * previous one, so creation order is the order of the calls.
 */
import { env } from "cloudflare:test";
import { insertVideo } from "../db/videos.ts";
import { newVideoId } from "../storage/keys.ts";

let clock = Date.parse("2026-01-01T00:00:00Z");

export type SeedFields = {
  title: string;
  description?: string;
  tags?: string[];
  visibility?: "public" | "unlisted";
  status?: "ready" | "processing";
  durationSec?: number;
};

export async function seedVideo(fields: SeedFields): Promise<{ id: string; durationSec: number }> {
  const id = newVideoId();
  clock += 1000;
  const durationSec = fields.durationSec ?? 60;
  await insertVideo(env.DB, {
    id,
    title: fields.title,
    description: fields.description ?? "",
    tags: fields.tags ?? [],
    filename: "x.mp4",
    size: 1,
    contentType: "video/mp4",
    status: fields.status ?? "ready",
    visibility: fields.visibility ?? "public",
    durationSec,
    createdAt: clock,
    updatedAt: clock,
  });
  return { id, durationSec };
}

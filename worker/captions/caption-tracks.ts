/**
 * A video's caption tracks where they live: the WebVTT in R2 (one object per
 * language), the track's row in D1 `captions`, and its cues in
 * `caption_cues` for search. A track's cues are replaced in one D1 batch (a
 * transaction), so search sees the old track or the new one, never half. The
 * track's `captions` row is written after its cues, in that batch: its
 * triggers rebuild the video's transcript (`caption_transcripts_fts`, drizzle
 * 0011) from the cues then in place.
 */
import { and, asc, eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import type { CaptionTrack } from "../contracts/captions.ts";
import { type CaptionRow, captions } from "../db/schema.ts";
import { captionKey } from "../storage/keys.ts";
import { type Cue, cuePlainText } from "./webvtt.ts";

const database = (db: D1Database) => drizzle(db, { schema: { captions } });

/** Cues go to D1 as JSON arrays read by `json_each`, this many characters a statement (D1 takes 2 MB a value). */
const CUE_JSON_PER_STATEMENT = 512 * 1024;

/** Every track of the video, by language. */
export async function listTracks(db: D1Database, videoId: string): Promise<CaptionRow[]> {
  return database(db).select().from(captions).where(eq(captions.videoId, videoId)).orderBy(asc(captions.lang)).all();
}

export async function getTrack(db: D1Database, videoId: string, lang: string): Promise<CaptionRow | undefined> {
  return database(db)
    .select()
    .from(captions)
    .where(and(eq(captions.videoId, videoId), eq(captions.lang, lang)))
    .get();
}

export type NewTrack = { videoId: string; lang: string; label: string; cues: Cue[]; vtt: string };

/**
 * Stores the track, replacing the language's previous one; `created` says
 * whether there was none. The file goes first: a track's row never names a
 * file that is not there. Undefined when the video is gone (its row's
 * foreign key refuses the batch; its deletion sweeps the file).
 */
export async function putTrack(
  env: Pick<Env, "DB" | "VIDEOS">,
  track: NewTrack,
  now = Date.now(),
): Promise<{ row: CaptionRow; created: boolean } | undefined> {
  const { videoId, lang, label, cues, vtt } = track;
  const body = new TextEncoder().encode(vtt);
  const before = await getTrack(env.DB, videoId, lang);
  await env.VIDEOS.put(captionKey(videoId, lang), body, {
    httpMetadata: { contentType: "text/vtt; charset=utf-8" },
  });
  const row: CaptionRow = {
    videoId,
    lang,
    label,
    cues: cues.length,
    bytes: body.length,
    createdAt: before?.createdAt ?? now,
    updatedAt: now,
  };
  const statements = [
    env.DB.prepare("DELETE FROM caption_cues WHERE video_id = ? AND lang = ?").bind(videoId, lang),
    ...cueInserts(env.DB, videoId, lang, cues),
    env.DB.prepare(
      `INSERT INTO captions (video_id, lang, label, cues, bytes, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (video_id, lang) DO UPDATE SET label = excluded.label, cues = excluded.cues,
         bytes = excluded.bytes, updated_at = excluded.updated_at`,
    ).bind(videoId, lang, label, row.cues, row.bytes, row.createdAt, row.updatedAt),
  ];
  try {
    await env.DB.batch(statements);
  } catch (err) {
    if (String(err).includes("FOREIGN KEY constraint failed")) return undefined;
    throw err;
  }
  return { row, created: before === undefined };
}

/** The statements inserting the cues that say something, in order, as few as D1's limits allow. */
function cueInserts(db: D1Database, videoId: string, lang: string, cues: Cue[]): D1PreparedStatement[] {
  const statements: D1PreparedStatement[] = [];
  let batch: [number, number, string][] = [];
  let size = 0;
  const flush = () => {
    if (batch.length === 0) return;
    statements.push(
      db
        .prepare(
          `INSERT INTO caption_cues (video_id, lang, start_ms, end_ms, text)
           SELECT ?, ?, value ->> 0, value ->> 1, value ->> 2 FROM json_each(?) ORDER BY key`,
        )
        .bind(videoId, lang, JSON.stringify(batch)),
    );
    batch = [];
    size = 0;
  };
  for (const cue of cues) {
    const text = cuePlainText(cue.text);
    if (!text) continue;
    const entry: [number, number, string] = [cue.start, cue.end, text];
    const entrySize = JSON.stringify(entry).length + 1;
    if (size + entrySize > CUE_JSON_PER_STATEMENT) flush();
    batch.push(entry);
    size += entrySize;
  }
  flush();
  return statements;
}

/** Removes the track; false when the video has none in that language. */
export async function deleteTrack(env: Pick<Env, "DB" | "VIDEOS">, videoId: string, lang: string): Promise<boolean> {
  const [, removed] = await env.DB.batch([
    env.DB.prepare("DELETE FROM caption_cues WHERE video_id = ? AND lang = ?").bind(videoId, lang),
    env.DB.prepare("DELETE FROM captions WHERE video_id = ? AND lang = ? RETURNING lang").bind(videoId, lang),
  ]);
  if ((removed?.results.length ?? 0) === 0) return false;
  await env.VIDEOS.delete(captionKey(videoId, lang));
  return true;
}

/** The track as the API describes it; URLs root-relative, as `playback` URLs are. */
export function describeTrack(row: CaptionRow): CaptionTrack {
  const base = `/videos/${row.videoId}/captions/${row.lang}`;
  return {
    lang: row.lang,
    label: row.label,
    cues: row.cues,
    bytes: row.bytes,
    updatedAt: new Date(row.updatedAt).toISOString(),
    vtt: `${base}.vtt`,
    playlist: `${base}.m3u8`,
  };
}

/**
 * What changes whenever a track is added, replaced or removed: part of the
 * master playlist's ETag, so a cached master is revalidated into one that
 * names the new tracks.
 */
export function tracksVersion(rows: readonly CaptionRow[]): string {
  let hash = 0x811c9dc5; // FNV-1a, 32 bits: a short tag, not a secret.
  for (const ch of rows.map((r) => `${r.lang}:${r.updatedAt}:${r.label}`).join("|")) {
    hash ^= ch.charCodeAt(0);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(36);
}

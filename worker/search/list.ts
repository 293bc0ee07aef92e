/**
 * Runs listings and searches against D1 and shapes the results: rows,
 * `<mark>` highlights, the next keyset cursor. The SQL is in list-query.ts.
 */
import type { Rendition } from "../contracts/job.ts";
import type { VideoRow } from "../db/schema.ts";
import { encodeCursor } from "./cursor.ts";
import { markHtml } from "./fts-query.ts";
import { listQuery, type ListParams } from "./list-query.ts";

export type Listed = { row: VideoRow; highlight?: { title: string; description: string } };
export type ListResult = { items: Listed[]; nextCursor: string | null };

export async function listVideos(db: D1Database, params: ListParams): Promise<ListResult> {
  const { sql, binds, sort, order } = listQuery(params);
  const { results } = await db
    .prepare(sql)
    .bind(...binds)
    .all<RawVideo>();
  const page = results.slice(0, params.limit);
  const last = page.at(-1);
  const keyOf = (r: RawVideo) =>
    Number(order.key === "rank" ? r.rank : order.key === "created_at" ? r.created_at : (r.duration_sec ?? 0));
  return {
    items: page.map((r) => ({
      row: fromRaw(r),
      ...(r.hl_title !== undefined
        ? { highlight: { title: markHtml(r.hl_title ?? ""), description: markHtml(r.hl_description ?? "") } }
        : {}),
    })),
    nextCursor: results.length > params.limit && last ? encodeCursor({ sort, key: keyOf(last), id: last.id }) : null,
  };
}

/** Tag suggestions: the most used tags of public, ready videos starting with `prefix`. */
export async function suggestTags(
  db: D1Database,
  prefix: string,
  limit: number,
): Promise<{ tag: string; count: number }[]> {
  const p = prefix.toLowerCase();
  // A range on the primary key, not LIKE: LIKE cannot use a case-sensitive index.
  const { results } = await db
    .prepare(
      `SELECT t.tag AS tag, count(*) AS count FROM video_tags t JOIN videos v ON v.id = t.video_id
       WHERE t.tag >= ? AND t.tag < ? AND v.visibility = 'public' AND v.status = 'ready'
       GROUP BY t.tag ORDER BY count DESC, t.tag LIMIT ?`,
    )
    .bind(p, `${p}\u{10ffff}`, limit)
    .all<{ tag: string; count: number }>();
  return results;
}

type RawVideo = {
  id: string;
  title: string;
  description: string;
  tags: string;
  filename: string;
  size: number;
  content_type: string;
  status: VideoRow["status"];
  visibility: VideoRow["visibility"];
  progress: number | null;
  error: string | null;
  duration_sec: number | null;
  width: number | null;
  height: number | null;
  frame_rate: number | null;
  video_codec: string | null;
  audio_codec: string | null;
  renditions: string | null;
  playback_job: string | null;
  ladder_complete: number;
  created_at: number;
  updated_at: number;
  rank?: number;
  hl_title?: string | null;
  hl_description?: string | null;
};

function fromRaw(r: RawVideo): VideoRow {
  return {
    id: r.id,
    title: r.title,
    description: r.description,
    tags: JSON.parse(r.tags) as string[],
    filename: r.filename,
    size: r.size,
    contentType: r.content_type,
    status: r.status,
    visibility: r.visibility,
    progress: r.progress,
    error: r.error,
    durationSec: r.duration_sec,
    width: r.width,
    height: r.height,
    frameRate: r.frame_rate,
    videoCodec: r.video_codec,
    audioCodec: r.audio_codec,
    renditions: r.renditions ? (JSON.parse(r.renditions) as Rendition[]) : null,
    playbackJob: r.playback_job,
    ladderComplete: r.ladder_complete === 1,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

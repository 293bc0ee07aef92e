/**
 * Listing and full-text search of public, ready videos in D1. Every query
 * reads an index: the listing indexes on (visibility, status, created_at|
 * duration_sec, id), the FTS5 index for `q`, `video_tags`' primary key for
 * `tag` (tested with EXPLAIN QUERY PLAN). Ranking is bm25 with title weighted
 * above tags above description.
 */
import type { RenditionInfo, VideoRow } from "../db/schema.ts";
import { decodeCursor, encodeCursor, type Sort } from "./cursor.ts";
import { ftsQuery, markHtml } from "./fts-query.ts";

export type ListParams = { q?: string; tag?: string; sort?: Sort; limit: number; cursor?: string };
export type Listed = { row: VideoRow; highlight?: { title: string; description: string } };
export type ListResult = { items: Listed[]; nextCursor: string | null };

/** bm25 weights in column order (title, tags, description). */
const BM25 = "bm25(videos_fts, 10.0, 5.0, 1.0)";

type Order = { key: string; dir: "ASC" | "DESC" };
const ORDERS: Record<Sort, Order> = {
  relevance: { key: "rank", dir: "ASC" },
  newest: { key: "created_at", dir: "DESC" },
  oldest: { key: "created_at", dir: "ASC" },
  duration: { key: "duration_sec", dir: "ASC" },
};

/** The SQL for a page; exported so tests can EXPLAIN it. */
export function listQuery(params: ListParams): { sql: string; binds: unknown[]; sort: Sort; order: Order } {
  const match = params.q !== undefined ? ftsQuery(params.q) : undefined;
  const sort: Sort = params.sort ?? (match ? "relevance" : "newest");
  const effective: Sort = sort === "relevance" && !match ? "newest" : sort;
  const order = ORDERS[effective];
  const binds: unknown[] = [];
  const where = ["v.visibility = 'public'", "v.status = 'ready'"];
  let from = "videos v";
  let columns = "v.*";
  if (params.q !== undefined && !match) {
    // Nothing searchable was typed (only punctuation): no video can match.
    where.push("0");
  }
  if (match) {
    from = "videos_fts JOIN videos v ON v.rowid = videos_fts.rowid";
    columns = `v.*, ${BM25} AS rank, highlight(videos_fts, 0, char(1), char(2)) AS hl_title, ` +
      "snippet(videos_fts, 2, char(1), char(2), '…', 24) AS hl_description";
    where.push("videos_fts MATCH ?");
    binds.push(match);
  }
  if (params.tag !== undefined) {
    where.push("EXISTS (SELECT 1 FROM video_tags t WHERE t.tag = ? AND t.video_id = v.id)");
    binds.push(params.tag.toLowerCase());
  }
  const inner = `SELECT ${columns} FROM ${from} WHERE ${where.join(" AND ")}`;
  const keyCol = order.key;
  const outer: string[] = [];
  if (params.cursor) {
    const c = decodeCursor(params.cursor, sort);
    const cmp = order.dir === "ASC" ? ">" : "<";
    outer.push(`(${keyCol} ${cmp} ? OR (${keyCol} = ? AND id ${cmp} ?))`);
    binds.push(c.key, c.key, c.id);
  }
  const sql = `SELECT * FROM (${inner})${outer.length ? ` WHERE ${outer.join(" AND ")}` : ""} ` +
    `ORDER BY ${keyCol} ${order.dir}, id ${order.dir} LIMIT ?`;
  binds.push(params.limit + 1);
  return { sql, binds, sort, order };
}

export async function listVideos(db: D1Database, params: ListParams): Promise<ListResult> {
  const { sql, binds, sort, order } = listQuery(params);
  const { results } = await db.prepare(sql).bind(...binds).all<RawVideo>();
  const page = results.slice(0, params.limit);
  const last = page.at(-1);
  const keyOf = (r: RawVideo) => Number(order.key === "rank" ? r.rank : order.key === "created_at" ? r.created_at : (r.duration_sec ?? 0));
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
export async function suggestTags(db: D1Database, prefix: string, limit: number): Promise<{ tag: string; count: number }[]> {
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
  id: string; title: string; description: string; tags: string; filename: string; size: number; content_type: string;
  status: VideoRow["status"]; visibility: VideoRow["visibility"]; progress: number | null; error: string | null;
  duration_sec: number | null; width: number | null; height: number | null; frame_rate: number | null;
  video_codec: string | null; audio_codec: string | null; renditions: string | null; playback_job: string | null;
  ladder_complete: number; created_at: number; updated_at: number;
  rank?: number; hl_title?: string | null; hl_description?: string | null;
};

function fromRaw(r: RawVideo): VideoRow {
  return {
    id: r.id, title: r.title, description: r.description, tags: JSON.parse(r.tags) as string[], filename: r.filename,
    size: r.size, contentType: r.content_type, status: r.status, visibility: r.visibility, progress: r.progress,
    error: r.error, durationSec: r.duration_sec, width: r.width, height: r.height, frameRate: r.frame_rate,
    videoCodec: r.video_codec, audioCodec: r.audio_codec,
    renditions: r.renditions ? (JSON.parse(r.renditions) as RenditionInfo[]) : null,
    playbackJob: r.playback_job, ladderComplete: r.ladder_complete === 1, createdAt: r.created_at, updatedAt: r.updated_at,
  };
}

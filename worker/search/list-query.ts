/**
 * The SQL of listing and full-text search of public, ready videos. Every
 * query reads an index: the listing indexes on (visibility, status,
 * created_at|duration_sec, id), the FTS5 index for `q`, `video_tags`' primary
 * key for `tag` (tested with EXPLAIN QUERY PLAN). Ranking is bm25 with title
 * weighted above tags above description. Runtime-neutral: the search
 * benchmark runs the same SQL on node:sqlite.
 */
import type { Sort } from "../contracts/vocabulary.ts";
import { decodeCursor } from "./cursor.ts";
import { ftsQuery } from "./fts-query.ts";

export type ListParams = { q?: string; tag?: string; sort?: Sort; limit: number; cursor?: string };

/** bm25 weights in column order (title, tags, description). */
const BM25 = "bm25(videos_fts, 10.0, 5.0, 1.0)";

export type Order = { key: string; dir: "ASC" | "DESC" };
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
    columns =
      `v.*, ${BM25} AS rank, highlight(videos_fts, 0, char(1), char(2)) AS hl_title, ` +
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
    if (keyCol === "rank") {
      // bm25 depends on the whole catalogue, so the rank the cursor remembers
      // goes stale as soon as a video is added: anchor on the last seen
      // video's rank now, and fall back to the remembered one if it no
      // longer matches.
      const key = "coalesce((SELECT rank FROM matches WHERE id = ?), ?)";
      outer.push(`(rank ${cmp} ${key} OR (rank = ${key} AND id ${cmp} ?))`);
      binds.push(c.id, c.key, c.id, c.key, c.id);
    } else {
      outer.push(`(${keyCol} ${cmp} ? OR (${keyCol} = ? AND id ${cmp} ?))`);
      binds.push(c.key, c.key, c.id);
    }
  }
  const sql =
    `WITH matches AS (${inner}) SELECT * FROM matches${outer.length ? ` WHERE ${outer.join(" AND ")}` : ""} ` +
    `ORDER BY ${keyCol} ${order.dir}, id ${order.dir} LIMIT ?`;
  binds.push(params.limit + 1);
  return { sql, binds, sort, order };
}

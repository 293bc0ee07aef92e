/**
 * The SQL of listing and full-text search of public, ready videos. Every
 * query reads an index: the listing indexes on (visibility, status,
 * created_at|duration_sec, id), the FTS5 indexes for `q` (videos' title, tags
 * and description; their captions' cues), `video_tags`' primary key for
 * `tag` (tested with EXPLAIN QUERY PLAN). Ranking is bm25 with title weighted
 * above tags above description; videos that match only in what they say
 * (their captions) come after every video whose words match, ranked by their
 * transcript (`caption_transcripts_fts`, one row per video). Runtime-neutral:
 * the search benchmark runs the same SQL on node:sqlite.
 */
import type { Sort } from "../contracts/vocabulary.ts";
import { decodeCursor } from "./cursor.ts";
import { ftsQuery } from "./fts-query.ts";

export type ListParams = { q?: string; tag?: string; sort?: Sort; limit: number; cursor?: string };

/** bm25 weights in column order (title, tags, description). */
const BM25 = "bm25(videos_fts, 10.0, 5.0, 1.0)";

/**
 * The rank of a video found only in its captions, from its transcript's bm25.
 * FTS5's bm25 is never positive (better is lower), so every words match
 * ranks at or below 0, and this maps a transcript's score into (0, 1],
 * keeping its order: after all of them, best transcript first.
 */
const SAID_RANK = "1.0 / (1.0 - bm25(caption_transcripts_fts))";

export type Order = { key: string; dir: "ASC" | "DESC" };
const ORDERS: Record<Sort, Order> = {
  relevance: { key: "rank", dir: "ASC" },
  newest: { key: "created_at", dir: "DESC" },
  oldest: { key: "created_at", dir: "ASC" },
  duration: { key: "duration_sec", dir: "ASC" },
};

/** How many moments a video found in its captions shows at most. */
export const MAX_MOMENTS = 3;

/**
 * The SQL of the moments of a page's videos: each one's best `MAX_MOMENTS`
 * cues matching `match` (by bm25, earlier first on a tie), in time order,
 * with the matches between FTS5 markers. `match` is `ftsQuery`'s output.
 */
export function momentsQuery(match: string, videoIds: string[]): { sql: string; binds: unknown[] } {
  // One pass over the cues matching `match`, each kept only if its rowid is one of the page's videos'
  // cues (read by `caption_cues_track` into a list once): bm25, snippet and the cue's row are then read
  // for the page's matches alone. The `+` keeps that list a filter: as a constraint, FTS5 would be
  // probed once per cue id, and each probe of a prefix query (`"sun"*`) merges its whole doclist again.
  const sql =
    "WITH hits AS MATERIALIZED (SELECT c.video_id AS video_id, c.start_ms AS start_ms, " +
    "bm25(caption_cues_fts) AS score, snippet(caption_cues_fts, 0, char(1), char(2), '…', 32) AS text " +
    "FROM caption_cues_fts JOIN caption_cues c ON c.id = caption_cues_fts.rowid WHERE caption_cues_fts MATCH ? " +
    // The page's ids as one JSON value: D1 binds at most 100 parameters, and a page holds up to 100 videos.
    "AND +caption_cues_fts.rowid IN (SELECT pc.id FROM json_each(?) page " +
    "CROSS JOIN caption_cues pc ON pc.video_id = page.value)), " +
    "ranked AS (SELECT *, row_number() OVER (PARTITION BY video_id ORDER BY score, start_ms) AS n FROM hits) " +
    "SELECT video_id, start_ms, text FROM ranked WHERE n <= ? ORDER BY video_id, start_ms";
  return { sql, binds: [match, JSON.stringify(videoIds), MAX_MOMENTS] };
}

/** The SQL for a page; exported so tests can EXPLAIN it. `match` is the FTS5 query, when `q` has one. */
export function listQuery(params: ListParams): {
  sql: string;
  binds: unknown[];
  sort: Sort;
  order: Order;
  match: string | undefined;
} {
  const match = params.q !== undefined ? ftsQuery(params.q) : undefined;
  const sort: Sort = params.sort ?? (match ? "relevance" : "newest");
  const effective: Sort = sort === "relevance" && !match ? "newest" : sort;
  const order = ORDERS[effective];
  const binds: unknown[] = [];
  const where = ["v.visibility = 'public'", "v.status = 'ready'"];
  const filterBinds: unknown[] = [];
  if (params.q !== undefined && !match) {
    // Nothing searchable was typed (only punctuation): no video can match.
    where.push("0");
  }
  if (params.tag !== undefined) {
    where.push("EXISTS (SELECT 1 FROM video_tags t WHERE t.tag = ? AND t.video_id = v.id)");
    filterBinds.push(params.tag.toLowerCase());
  }
  const filters = where.join(" AND ");
  let ctes: string;
  if (match) {
    const words =
      `SELECT v.*, ${BM25} AS rank, highlight(videos_fts, 0, char(1), char(2)) AS hl_title, ` +
      "snippet(videos_fts, 2, char(1), char(2), '…', 24) AS hl_description " +
      `FROM videos_fts JOIN videos v ON v.rowid = videos_fts.rowid WHERE videos_fts MATCH ? AND ${filters}`;
    // Videos found in what they say: one row each in `caption_transcripts_fts` (only public, ready videos
    // are indexed), so bm25 is computed once per matching video, not once per matching cue. The title
    // stands as its own highlight, with nothing marked: the words are in what the video says.
    const said =
      `SELECT v.*, ${SAID_RANK} AS rank, v.title AS hl_title, '' AS hl_description ` +
      "FROM caption_transcripts_fts CROSS JOIN videos v ON v.rowid = caption_transcripts_fts.rowid " +
      `WHERE caption_transcripts_fts MATCH ? AND ${filters} AND v.id NOT IN (SELECT id FROM words)`;
    ctes = `words AS MATERIALIZED (${words}), matches AS (SELECT * FROM words UNION ALL ${said})`;
    binds.push(match, ...filterBinds, match, ...filterBinds);
  } else {
    ctes = `matches AS (SELECT v.* FROM videos v WHERE ${filters})`;
    binds.push(...filterBinds);
  }
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
    `WITH ${ctes} SELECT * FROM matches${outer.length ? ` WHERE ${outer.join(" AND ")}` : ""} ` +
    `ORDER BY ${keyCol} ${order.dir}, id ${order.dir} LIMIT ?`;
  binds.push(params.limit + 1);
  return { sql, binds, sort, order, match };
}

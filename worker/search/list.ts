/**
 * Runs listings and searches against D1 and shapes the results: rows,
 * `<mark>` highlights, the moments whose captions match, the next keyset
 * cursor. The SQL is in list-query.ts.
 */
import { getTableColumns } from "drizzle-orm";
import type { Moment } from "../contracts/video.ts";
import { type VideoRow, videos } from "../db/schema.ts";
import { encodeCursor } from "./cursor.ts";
import { markHtml } from "./fts-query.ts";
import { listQuery, type ListParams, momentsQuery } from "./list-query.ts";

export type Listed = { row: VideoRow; highlight?: { title: string; description: string }; moments?: Moment[] };
export type ListResult = { items: Listed[]; nextCursor: string | null };

export async function listVideos(db: D1Database, params: ListParams): Promise<ListResult> {
  const { sql, binds, sort, order, match } = listQuery(params);
  const { results } = await db
    .prepare(sql)
    .bind(...binds)
    .all<Matched>();
  const page = results.slice(0, params.limit);
  const last = page.at(-1);
  const keyOf = (r: Matched) => Number(r[order.key] ?? 0);
  const moments = match
    ? await momentsOf(
        db,
        match,
        page.map((r) => r.id),
      )
    : new Map<string, Moment[]>();
  return {
    items: page.map((r) => ({
      row: videoRowOf(r),
      ...(r.hl_title !== undefined
        ? { highlight: { title: markHtml(r.hl_title ?? ""), description: markHtml(r.hl_description ?? "") } }
        : {}),
      ...(moments.has(r.id) ? { moments: moments.get(r.id) } : {}),
    })),
    nextCursor: results.length > params.limit && last ? encodeCursor({ sort, key: keyOf(last), id: last.id }) : null,
  };
}

/** The best cues matching `match` of each video of the page that has any, in time order, by video id. */
async function momentsOf(db: D1Database, match: string, ids: string[]): Promise<Map<string, Moment[]>> {
  const byVideo = new Map<string, Moment[]>();
  if (ids.length === 0) return byVideo;
  const { sql, binds } = momentsQuery(match, ids);
  const { results } = await db
    .prepare(sql)
    .bind(...binds)
    .all<{ video_id: string; start_ms: number; text: string }>();
  for (const r of results) {
    const list = byVideo.get(r.video_id) ?? [];
    list.push({ t: r.start_ms / 1000, text: markHtml(r.text) });
    byVideo.set(r.video_id, list);
  }
  return byVideo;
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

/**
 * A row of the listing SQL: every column of `videos` under its SQL name (the
 * query selects `v.*`), then the search's rank and highlights.
 */
type Matched = Record<string, unknown> & {
  id: string;
  rank?: number;
  hl_title?: string | null;
  hl_description?: string | null;
};

const COLUMNS = Object.entries(getTableColumns(videos));

/** The row as drizzle reads it: each column by its SQL name, decoded (JSON, booleans) by the schema. */
function videoRowOf(matched: Matched): VideoRow {
  return Object.fromEntries(
    COLUMNS.map(([field, column]) => {
      const value = matched[column.name];
      return [field, value === null ? null : column.mapFromDriverValue(value)];
    }),
  ) as VideoRow;
}

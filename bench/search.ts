/**
 * Search latency at 100,000 videos: p50/p95/p99 through the HTTP API of the
 * real local stack, beside the very same FTS5 queries (same SQL, same data)
 * run directly on an SQLite file with node:sqlite, in the same run.
 */
import { readdirSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { listQuery } from "../worker/search/list-query.ts";
import { root, startStack } from "../test/stack.ts";
import { percentile } from "./lib.ts";
import { seedLocal, seedSql } from "./seed.ts";

const QUERIES: Record<string, string[]> = {
  "one word": ["sunrise", "glacier", "kayak", "waterfall", "tutorial"],
  "two words": ["mountain bike", "northern lights", "street food", "drone flight", "road trip"],
  prefix: ["sun", "gla", "kay", "wat", "tut"],
  "no match": ["zzqxv", "qwxyzzy", "xyzzyplugh", "jjjjqqq", "vvvbbbnnn"],
};

export type SearchBench = {
  videos: number;
  perKind: number;
  kinds: Record<string, { http: number[]; direct: number[] }>;
};

/** An SQLite file with every drizzle migration applied in order and `count` seeded videos. */
export function baselineDb(path: string, count: number): DatabaseSync {
  const db = new DatabaseSync(path);
  const dir = join(root, "drizzle");
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith(".sql"))
    .sort()) {
    for (const stmt of readFileSync(join(dir, file), "utf8").split("--> statement-breakpoint"))
      if (stmt.trim()) db.exec(stmt);
  }
  db.exec("BEGIN");
  for (const stmt of seedSql(count)) db.exec(stmt);
  db.exec("COMMIT");
  return db;
}

export async function benchSearch(count = 100_000, perKind = 200): Promise<SearchBench> {
  const stateDir = await mkdtemp(join(tmpdir(), "reelay-search-"));
  await mkdir(join(root, "bench/tmp"), { recursive: true });
  const dbPath = join(root, "bench/tmp/search-baseline.sqlite");
  await rm(dbPath, { force: true });
  await seedLocal(stateDir, count);
  const db = baselineDb(dbPath, count);
  const result: SearchBench = { videos: count, perKind, kinds: {} };
  const stack = await startStack({ stateDir });
  try {
    for (const [kind, words] of Object.entries(QUERIES)) {
      const http: number[] = [];
      const direct: number[] = [];
      for (let i = 0; i < perKind; i++) {
        const q = words[i % words.length];
        let t = performance.now();
        const res = await fetch(`${stack.url}/api/videos?q=${encodeURIComponent(q)}&limit=24`);
        await res.json();
        http.push(performance.now() - t);
        if (res.status !== 200) throw new Error(`search ${q}: ${res.status}`);
        const { sql, binds } = listQuery({ q, limit: 24 });
        t = performance.now();
        db.prepare(sql).all(...(binds as (string | number)[]));
        direct.push(performance.now() - t);
      }
      result.kinds[kind] = { http, direct };
    }
  } finally {
    await stack.stop();
    db.close();
    await rm(stateDir, { recursive: true, force: true });
  }
  return result;
}

export function searchRows(r: SearchBench): (string | number)[][] {
  const ms = (xs: number[], p: number) => percentile(xs, p).toFixed(1);
  return Object.entries(r.kinds).map(([kind, { http, direct }]) => [
    `search ${r.videos.toLocaleString("en")} videos, ${kind} (p50/p95/p99)`,
    `HTTP API: ${ms(http, 50)} / ${ms(http, 95)} / ${ms(http, 99)} ms`,
    `node:sqlite direct: ${ms(direct, 50)} / ${ms(direct, 95)} / ${ms(direct, 99)} ms`,
    (percentile(http, 50) / percentile(direct, 50)).toFixed(1),
    `n=${r.perKind} per kind`,
  ]);
}

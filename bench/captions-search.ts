/**
 * What searching what videos say costs: the Worker's own search SQL
 * (`listQuery`, then `momentsQuery` for the page, as worker/search/list.ts
 * runs them) on an SQLite file holding a catalogue whose every video has a
 * caption track, beside the very same SQL on the same catalogue without a
 * single cue (search as it was before captions), in the same run, with
 * node:sqlite. Both files are built by the drizzle migrations; the cues go in
 * through caption-tracks.ts's statements, so the FTS5 indexes are the ones
 * their triggers (drizzle/0009_captions.sql, 0011_caption_transcripts.sql)
 * maintain.
 */
import { copyFileSync, statSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { DatabaseSync, type SQLInputValue } from "node:sqlite";
import { cuePlainText } from "../worker/captions/webvtt.ts";
import { listQuery, momentsQuery } from "../worker/search/list-query.ts";
import { root } from "../test/stack.ts";
import { percentile } from "./lib.ts";
import { baselineDb } from "./search.ts";

/** What the web app asks for per page (web/src/home/main.ts). */
const PAGE = 24;

/**
 * One query per kind. The words are chosen against bench/seed.ts's catalogue
 * and this file's vocabulary, and checked after seeding (`checkKinds`).
 */
const KINDS = [
  { kind: "title only", q: "glacier", videos: true, cues: false },
  { kind: "captions only, rare", q: "fumarole", videos: false, cues: true },
  { kind: "captions only, frequent", q: "honestly", videos: false, cues: true },
  { kind: "common in both", q: "morning", videos: true, cues: true },
  { kind: "two words", q: "morning light", videos: true, cues: true },
  { kind: "no match", q: "zzqxv", videos: false, cues: false },
] as const;
type Kind = (typeof KINDS)[number]["kind"];

/** Spoken glue, most frequent first (picked by a Zipf law). */
const FUNCTION_WORDS = (
  "the and to a of we it you is in that this so on for just was here with I are there but be up get our they " +
  "all now go can right have really at out going what see one like little bit from over down back look very some " +
  "know think okay yeah about then when where how got more still again first next well because"
).split(" ");
/** What travel and outdoor videos talk about, most frequent first. None starts with a title-only query word. */
const CONTENT_WORDS = (
  "light road time day morning view water city mountain trail camera shot weather cold warm wind snow rain " +
  "clouds sky bike walk food market coffee bread top night minutes hours team friends people ride climb boat " +
  "ocean beach forest trees rocks path bridge town village train car lens drone battery sunrise sunset street " +
  "sound music lake valley hill summit harbour island tent fire dinner breakfast lunch map guide plan footage " +
  "edit colour frame focus tripod backpack shoes jacket gloves hat sun moon stars birds fish dog honestly " +
  "basically amazing beautiful quiet steep slippery windy tired hungry early late ready careful finally almost together"
).split(" ");
/** Words a cue says once in a while (a cue in 2,000 has one), the first far more often than the last. */
const RARE_WORDS = "crampon moraine serac fumarole scree cornice bergschrund sastrugi katabatic escarpment".split(" ");

type Sample = { list: number; moments: number };
const STEPS = ["words", "cueMatch", "transcriptMatch", "said"] as const;
type Steps = Record<(typeof STEPS)[number], number[]>;
/** The steps run every this many runs: the busiest are as slow as the search itself. */
const STEP_EVERY = 4;

export type CaptionsSearchBench = {
  videos: number;
  cuesPerVideo: number;
  runs: number;
  pageSize: number;
  seedSeconds: { catalogue: number; cues: number };
  bytes: { withCues: number; withoutCues: number; cueText: number };
  /** Bytes of each table and index of the file with cues (SQLite's dbstat), largest first. */
  tables: Record<string, number>;
  /** What each query finds, counted once after seeding (not timed). */
  matches: Record<Kind, { q: string; videosByWords: number; cues: number; videosByCues: number; page: number }>;
  /** Per kind, each run's two statements, in ms: with every video's cues, and with none. */
  samples: Record<Kind, { withCues: Sample[]; withoutCues: Sample[] }>;
  /**
   * Parts of the listing, alone, on the file with cues, every `STEP_EVERY`th
   * run: `words` (the videos whose title, tags or description match) and
   * `cues` (every matching cue with its bm25) are cut out of `listQuery`'s
   * SQL; `said` is `cues` grouped by video as the listing groups it;
   * `cueMatch` is FTS5's lookup alone, `cueJoin` the lookup joined to each
   * cue's row as `cues` joins it, both without bm25. Each is counted
   * with every column it computes summed, so none is skipped.
   */
  steps: Record<Kind, Steps>;
  /** EXPLAIN QUERY PLAN of both statements for the query matching most cues. */
  plans: { q: string; list: string[]; moments: string[] };
};

function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A sampler of `words` with weight 1/rank, as word frequencies in speech roughly go. */
function zipf(words: string[], r: () => number): () => string {
  const cumulative: number[] = [];
  let sum = 0;
  for (let i = 0; i < words.length; i++) {
    sum += 1 / (i + 1);
    cumulative.push(sum);
  }
  return () => {
    const x = r() * sum;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return words[lo];
  };
}

/** Cue texts: one or two short spoken sentences each, deterministic. */
function* cueTexts(seed = 7): Generator<string> {
  const r = prng(seed);
  const glue = zipf(FUNCTION_WORDS, r);
  const content = zipf(CONTENT_WORDS, r);
  const rare = zipf(RARE_WORDS, r);
  const sentence = () => {
    const words = Array.from({ length: 3 + Math.floor(r() * 8) }, () => (r() < 0.5 ? glue() : content()));
    if (r() < 0.0005) words.splice(Math.floor(r() * words.length), 0, rare());
    const text = words.join(" ");
    return `${text[0].toUpperCase()}${text.slice(1)}${r() < 0.8 ? "." : r() < 0.5 ? "?" : "!"}`;
  };
  for (;;) yield r() < 0.7 ? sentence() : `${sentence()} ${sentence()}`;
}

/** caption-tracks.ts's statements for one track, in its one transaction (a D1 batch). */
function captionStatements(db: DatabaseSync) {
  const remove = db.prepare("DELETE FROM caption_cues WHERE video_id = ? AND lang = ?");
  const insertCues = db.prepare(
    `INSERT INTO caption_cues (video_id, lang, start_ms, end_ms, text)
           SELECT ?, ?, value ->> 0, value ->> 1, value ->> 2 FROM json_each(?) ORDER BY key`,
  );
  const track = db.prepare(
    `INSERT INTO captions (video_id, lang, label, cues, bytes, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (video_id, lang) DO UPDATE SET label = excluded.label, cues = excluded.cues,
         bytes = excluded.bytes, updated_at = excluded.updated_at`,
  );
  return (videoId: string, cues: [number, number, string][], vttBytes: number, now: number) => {
    db.exec("BEGIN");
    remove.run(videoId, "en");
    // One statement holds the whole track: 100 short cues are far below caption-tracks.ts's 512 KiB per statement.
    insertCues.run(videoId, "en", JSON.stringify(cues));
    track.run(videoId, "en", "English", cues.length, vttBytes, now, now);
    db.exec("COMMIT");
  };
}

/** Gives every video a track of `perVideo` cues; returns the cue text's bytes. */
function seedCaptions(db: DatabaseSync, perVideo: number): number {
  // Seeding only: neither changes what the file holds.
  db.exec("PRAGMA synchronous = OFF");
  db.exec("PRAGMA journal_mode = MEMORY");
  const put = captionStatements(db);
  const texts = cueTexts();
  const ids = db.prepare("SELECT id FROM videos ORDER BY id").all() as { id: string }[];
  let textBytes = 0;
  for (const { id } of ids) {
    const cues: [number, number, string][] = [];
    // The WebVTT's size: its header, then each cue's timing line, its text and a blank line.
    let vttBytes = "WEBVTT\n\n".length;
    for (let i = 0; i < perVideo; i++) {
      const text = cuePlainText(texts.next().value as string);
      const bytes = Buffer.byteLength(text);
      textBytes += bytes;
      vttBytes += "00:00:00.000 --> 00:00:02.500\n".length + bytes + 2;
      cues.push([i * 3000, i * 3000 + 2500, text]);
    }
    put(id, cues, vttBytes, Date.now());
  }
  return textBytes;
}

/** Every video public and ready (seed.ts makes 1 in 20 unlisted); their triggers index them. */
function allSearchable(db: DatabaseSync) {
  db.exec("UPDATE videos SET visibility = 'public' WHERE visibility <> 'public'");
  const left = db.prepare("SELECT count(*) AS n FROM videos WHERE visibility <> 'public' OR status <> 'ready'").get();
  if (Number(left?.n) !== 0) throw new Error("captions-search: some videos are not public and ready");
}

/** FTS5's own integrity check of every index, every cue indexed and every captioned video's transcript (all videos are searchable). */
function checkIndexes(db: DatabaseSync) {
  db.exec("INSERT INTO caption_cues_fts(caption_cues_fts) VALUES('integrity-check')");
  db.exec("INSERT INTO videos_fts(videos_fts) VALUES('integrity-check')");
  const count = (sql: string) => Number(db.prepare(sql).get()?.n);
  const cues = count("SELECT count(*) AS n FROM caption_cues");
  const indexed = count("SELECT count(*) AS n FROM caption_cues_fts_docsize");
  if (cues !== indexed) throw new Error(`captions-search: ${cues} cues but ${indexed} indexed`);
  db.exec("INSERT INTO caption_transcripts_fts(caption_transcripts_fts) VALUES('integrity-check')");
  const captioned = count("SELECT count(DISTINCT video_id) AS n FROM caption_cues");
  const transcripts = count("SELECT count(*) AS n FROM caption_transcripts_fts_docsize");
  if (captioned !== transcripts)
    throw new Error(`captions-search: ${captioned} videos with cues but ${transcripts} transcripts indexed`);
}

/** Runs `sql` and returns its rows; the statement is prepared each time, as a Worker's request does. */
const all = (db: DatabaseSync, sql: string, binds: unknown[]) =>
  db.prepare(sql).all(...(binds as SQLInputValue[])) as Record<string, unknown>[];

/** One search as list.ts runs it: the page, then the moments of the page's videos when `q` has words. */
function search(db: DatabaseSync, q: string): { sample: Sample; page: string[] } {
  const { sql, binds, match } = listQuery({ q, limit: PAGE });
  let t = performance.now();
  const page = all(db, sql, binds)
    .slice(0, PAGE)
    .map((r) => String(r.id));
  const list = performance.now() - t;
  t = performance.now();
  if (match && page.length > 0) {
    const m = momentsQuery(match, page);
    all(db, m.sql, m.binds);
  }
  return { sample: { list, moments: performance.now() - t }, page };
}

/** The steps of `listQuery`'s SQL for `q` (see `steps` above), each with its one bind. */
function stepQueries(q: string): { sql: Record<keyof Steps, string>; match: string } {
  const { sql, match } = listQuery({ q, limit: PAGE });
  const m = /^WITH words AS MATERIALIZED \((.*)\), matches AS /.exec(sql);
  if (!m || !match) throw new Error("captions-search: listQuery's SQL no longer has its words step");
  const [, words] = m;
  return {
    sql: {
      // Materialized as listQuery has them: FTS5 computes bm25 and highlights only for its own query's rows.
      words: `WITH words AS MATERIALIZED (${words}) SELECT count(*), sum(rank), sum(length(hl_title)), sum(length(hl_description)) FROM words`,
      cueMatch: "SELECT count(*) FROM caption_cues_fts WHERE caption_cues_fts MATCH ?",
      transcriptMatch: "SELECT count(*) FROM caption_transcripts_fts WHERE caption_transcripts_fts MATCH ?",
      // The caption branch's own work: every matching video's transcript scored, and its row read by rowid
      // (materialized: FTS5 computes bm25 only for a row of its own query, not inside an aggregate).
      said:
        "WITH said AS MATERIALIZED (SELECT bm25(caption_transcripts_fts) AS score, v.id AS id " +
        "FROM caption_transcripts_fts CROSS JOIN videos v ON v.rowid = caption_transcripts_fts.rowid " +
        "WHERE caption_transcripts_fts MATCH ?) SELECT count(*), sum(score), sum(length(id)) FROM said",
    },
    match,
  };
}

/** Counts what each query finds, and fails if a query is not of its kind in this catalogue. */
function checkKinds(db: DatabaseSync): CaptionsSearchBench["matches"] {
  const matches = {} as CaptionsSearchBench["matches"];
  const n = (sql: string, bind: string) => Number(Object.values(db.prepare(sql).get(bind) ?? {})[0]);
  for (const k of KINDS) {
    const match = listQuery({ q: k.q, limit: PAGE }).match ?? "";
    const found = {
      q: k.q,
      videosByWords: n("SELECT count(*) FROM videos_fts WHERE videos_fts MATCH ?", match),
      cues: n("SELECT count(*) FROM caption_cues_fts WHERE caption_cues_fts MATCH ?", match),
      videosByCues: n(
        "SELECT count(DISTINCT c.video_id) FROM caption_cues_fts JOIN caption_cues c ON c.id = caption_cues_fts.rowid WHERE caption_cues_fts MATCH ?",
        match,
      ),
      page: search(db, k.q).page.length,
    };
    if (found.videosByWords > 0 !== k.videos || found.cues > 0 !== k.cues)
      throw new Error(`captions-search: "${k.q}" is not a "${k.kind}" query here: ${JSON.stringify(found)}`);
    matches[k.kind] = found;
  }
  return matches;
}

const plan = (db: DatabaseSync, sql: string, binds: unknown[]) =>
  (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...(binds as SQLInputValue[])) as { detail: string }[]).map(
    (r) => r.detail,
  );

export async function benchCaptionsSearch(
  videos = 20_000,
  cuesPerVideo = 100,
  runs = 200,
): Promise<CaptionsSearchBench> {
  const dir = join(root, "bench/tmp");
  await mkdir(dir, { recursive: true });
  const withoutPath = join(dir, "captions-search-without-cues.sqlite");
  const withPath = join(dir, "captions-search-with-cues.sqlite");
  for (const p of [withoutPath, withPath]) await rm(p, { force: true });

  let t = performance.now();
  const seeded = baselineDb(withoutPath, videos);
  allSearchable(seeded);
  seeded.close();
  const catalogue = (performance.now() - t) / 1000;
  // The same catalogue, byte for byte, then every video's track.
  copyFileSync(withoutPath, withPath);
  const withCues = new DatabaseSync(withPath);
  t = performance.now();
  const cueText = seedCaptions(withCues, cuesPerVideo);
  const cuesSeconds = (performance.now() - t) / 1000;
  checkIndexes(withCues);
  const tables = Object.fromEntries(
    (
      withCues.prepare("SELECT name, sum(pgsize) AS bytes FROM dbstat GROUP BY name ORDER BY bytes DESC").all() as {
        name: string;
        bytes: number;
      }[]
    ).map((r) => [r.name, r.bytes]),
  );
  withCues.close();

  // Reopened as the Worker's D1 would find them: default settings.
  const dbs = { withCues: new DatabaseSync(withPath), withoutCues: new DatabaseSync(withoutPath) };
  try {
    const matches = checkKinds(dbs.withCues);
    const busiest = KINDS.reduce((a, b) => (matches[b.kind].cues > matches[a.kind].cues ? b : a));
    const listed = listQuery({ q: busiest.q, limit: PAGE });
    const page = search(dbs.withCues, busiest.q).page;
    const moments = momentsQuery(listed.match ?? "", page);
    const result: CaptionsSearchBench = {
      videos,
      cuesPerVideo,
      runs,
      pageSize: PAGE,
      seedSeconds: { catalogue, cues: cuesSeconds },
      bytes: { withCues: statSync(withPath).size, withoutCues: statSync(withoutPath).size, cueText },
      tables,
      matches,
      samples: {} as CaptionsSearchBench["samples"],
      steps: {} as CaptionsSearchBench["steps"],
      plans: {
        q: busiest.q,
        list: plan(dbs.withCues, listed.sql, listed.binds),
        moments: plan(dbs.withCues, moments.sql, moments.binds),
      },
    };
    for (const k of KINDS) {
      result.samples[k.kind] = { withCues: [], withoutCues: [] };
      result.steps[k.kind] = { words: [], cueMatch: [], transcriptMatch: [], said: [] };
    }
    // One uncounted search of each kind on each file first, so neither pays for a cold cache in the counted runs.
    for (const k of KINDS) for (const db of Object.values(dbs)) search(db, k.q);
    for (let i = 0; i < runs; i++) {
      if (i % 50 === 0) console.error(`[bench] captions-search: run ${i + 1} of ${runs}`);
      // Kinds in rotating order, the two files alternating which goes first: noise hits both alike.
      for (let j = 0; j < KINDS.length; j++) {
        const k = KINDS[(i + j) % KINDS.length];
        const order = i % 2 === 0 ? (["withCues", "withoutCues"] as const) : (["withoutCues", "withCues"] as const);
        for (const which of order) result.samples[k.kind][which].push(search(dbs[which], k.q).sample);
        if (i % STEP_EVERY !== 0 || !listQuery({ q: k.q, limit: PAGE }).match) continue;
        const steps = stepQueries(k.q);
        for (const step of STEPS) {
          t = performance.now();
          dbs.withCues.prepare(steps.sql[step]).get(steps.match);
          result.steps[k.kind][step].push(performance.now() - t);
        }
      }
    }
    return result;
  } finally {
    dbs.withCues.close();
    dbs.withoutCues.close();
  }
}

const total = (xs: Sample[]) => xs.map((s) => s.list + s.moments);

export function captionsSearchRows(r: CaptionsSearchBench): (string | number)[][] {
  const ms = (xs: number[]) => `${percentile(xs, 50).toFixed(2)} / ${percentile(xs, 95).toFixed(2)} ms`;
  const ratio = (a: number[], b: number[], p: number) => percentile(a, p) / percentile(b, p);
  const scale = `${r.videos.toLocaleString("en")} videos × ${r.cuesPerVideo} cues`;
  const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
  const rows: (string | number)[][] = KINDS.map(({ kind, q }) => {
    const withCues = total(r.samples[kind].withCues);
    const without = total(r.samples[kind].withoutCues);
    const m = r.matches[kind];
    const steps = r.steps[kind];
    const p50 = (xs: number[]) => percentile(xs, 50).toFixed(2);
    const stepNote = steps.said.length
      ? `; alone (p50, n=${steps.said.length}): words ${p50(steps.words)}, cue lookup (moments' index) ${p50(steps.cueMatch)}, transcript lookup ${p50(steps.transcriptMatch)}, + bm25 and video rows (the captions step) ${p50(steps.said)} ms`
      : "";
    const page = percentile(
      r.samples[kind].withCues.map((s) => s.list),
      50,
    );
    const moments = percentile(
      r.samples[kind].withCues.map((s) => s.moments),
      50,
    );
    return [
      `captions search, ${scale}: ${kind} \`${q}\` (p50 / p95, page + moments)`,
      `with captions: ${ms(withCues)}`,
      `no cues: ${ms(without)}`,
      ratio(withCues, without, 50).toFixed(2),
      `p95 ratio ${ratio(withCues, without, 95).toFixed(2)}; n=${withCues.length}; finds ${m.videosByWords} videos by words, ${m.cues} cues in ${m.videosByCues} videos; with captions p50: page ${page.toFixed(2)}, moments ${moments.toFixed(2)} ms${stepNote}`,
    ];
  });
  rows.push([
    `captions search, ${scale}: SQLite file`,
    mb(r.bytes.withCues),
    `no cues: ${mb(r.bytes.withoutCues)}`,
    (r.bytes.withCues / r.bytes.withoutCues).toFixed(2),
    `cue text ${mb(r.bytes.cueText)}; of the file: ${Object.entries(r.tables)
      .slice(0, 4)
      .map(([name, bytes]) => `${name} ${mb(bytes)}`)
      .join(", ")}; cues seeded in ${r.seedSeconds.cues.toFixed(0)} s`,
  ]);
  return rows;
}

/**
 * `npm run bench [-- upload]`: measures, prints a markdown table and writes
 * bench/results.json. Every figure stands beside a baseline measured in the
 * same run, as a ratio. Not part of `npm test`.
 */
import { writeFile } from "node:fs/promises";
import { arch, cpus, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { root } from "../test/stack.ts";
import { table } from "./lib.ts";
import { benchFirstFrame, firstFrameRows } from "./first-frame.ts";
import { benchSearch, searchRows } from "./search.ts";
import { benchTranscode, transcodeRows } from "./transcode.ts";
import { benchUpload, uploadRows } from "./upload.ts";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  // Defaults keep the whole run near 15 minutes on 2 cores; a 60 s 1080p ladder
  // takes minutes per run, so the transcode sections default to one run each.
  options: {
    runs: { type: "string", default: "5" },
    "upload-runs": { type: "string", default: "3" },
    "transcode-runs": { type: "string", default: "1" },
    "upload-mib": { type: "string", default: "2048" },
  },
});
const only = new Set(positionals);
const wanted = (name: string) => only.size === 0 || only.has(name);
const runs = Number(values.runs);

const rows: (string | number)[][] = [];
/** Sections print as they finish, so a long run shows its progress. */
const section = (name: string, added: (string | number)[][]) => {
  rows.push(...added);
  console.error(`[bench] ${name}: ${added.map((r) => r.slice(0, 4).join(" | ")).join("; ")}`);
};
const results: Record<string, unknown> = {
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, cpu: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), arch: arch(), node: process.version },
};

if (wanted("upload")) {
  const r = await benchUpload(Number(values["upload-mib"]) * 1024 * 1024, Number(values["upload-runs"]));
  results.upload = r;
  section("upload", uploadRows(r));
}

for (const codec of ["h264", "hevc"] as const) {
  if (!wanted("transcode") && !wanted(`transcode-${codec}`)) continue;
  const r = await benchTranscode(codec, 60, Number(values["transcode-runs"]));
  results[`transcode_${codec}`] = r;
  section(`transcode ${codec}`, transcodeRows(r));
}

if (wanted("search")) {
  const r = await benchSearch(100_000, 200);
  results.search = { videos: r.videos, perKind: r.perKind, table: searchRows(r) };
  section("search", searchRows(r));
}

if (wanted("first-frame")) {
  const r = await benchFirstFrame(runs);
  results.firstFrame = r;
  section("first frame", firstFrameRows(r));
}

const out = table(["measure", "Reelay", "baseline (same run)", "ratio", "spread / notes"], rows);
console.log(`\n${out}\n`);
await writeFile(join(root, "bench/results.json"), JSON.stringify({ ...results, table: out }, null, 2));

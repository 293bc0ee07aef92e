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
  options: { runs: { type: "string", default: "5" }, "upload-mib": { type: "string", default: "2048" } },
});
const only = new Set(positionals);
const wanted = (name: string) => only.size === 0 || only.has(name);
const runs = Number(values.runs);

const rows: (string | number)[][] = [];
const results: Record<string, unknown> = {
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, cpu: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), arch: arch(), node: process.version },
};

if (wanted("upload")) {
  const r = await benchUpload(Number(values["upload-mib"]) * 1024 * 1024, runs);
  results.upload = r;
  rows.push(...uploadRows(r));
}

for (const codec of ["h264", "hevc"] as const) {
  if (!wanted("transcode") && !wanted(`transcode-${codec}`)) continue;
  const r = await benchTranscode(codec, 60, Math.min(runs, 3));
  results[`transcode_${codec}`] = r;
  rows.push(...transcodeRows(r));
}

if (wanted("search")) {
  const r = await benchSearch(100_000, 200);
  results.search = { videos: r.videos, perKind: r.perKind, table: searchRows(r) };
  rows.push(...searchRows(r));
}

if (wanted("first-frame")) {
  const r = await benchFirstFrame(runs);
  results.firstFrame = r;
  rows.push(...firstFrameRows(r));
}

const out = table(["measure", "Reelay", "baseline (same run)", "ratio", "spread / notes"], rows);
console.log(`\n${out}\n`);
await writeFile(join(root, "bench/results.json"), JSON.stringify({ ...results, table: out }, null, 2));

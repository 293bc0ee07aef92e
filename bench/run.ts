/**
 * `npm run bench [-- upload]`: measures, prints a markdown table and writes
 * bench/results.json. Every figure stands beside a baseline measured in the
 * same run, as a ratio. Not part of `npm test`.
 */
import { execFileSync } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { arch, cpus, loadavg, release, totalmem } from "node:os";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { ffmpegPaths } from "../transcoder/ffmpeg-path.ts";
import { root } from "../test/stack.ts";
import { table } from "./lib.ts";
import { benchCaptionsSearch, captionsSearchRows } from "./captions-search.ts";
import { benchFirstFrame, firstFrameRows } from "./first-frame.ts";
import { benchLadder, ladderRows } from "./ladder.ts";
import { benchLarge, type Codec, largeRows } from "./large.ts";
import { benchPrivatePlayback, privatePlaybackRows } from "./private-playback.ts";
import { benchSearch, searchRows } from "./search.ts";
import { benchTranscode, transcodeRows } from "./transcode.ts";
import { benchUpload, uploadRows } from "./upload.ts";

const SECTIONS = [
  "upload",
  "transcode",
  "transcode-h264",
  "transcode-hevc",
  "search",
  "first-frame",
  "large",
  "ladder",
  "captions-search",
  "private-playback",
];
/** Sections a plain `npm run bench` leaves out, for their cost: named, they run. */
const ONLY_WHEN_NAMED = new Set(["large", "ladder", "captions-search", "private-playback"]);
const argv = process.argv.slice(2);
const { values, positionals } = parseArgs({
  args: argv,
  allowPositionals: true,
  // A 60 s 1080p ladder takes minutes per run, so the transcode sections default to one run each.
  options: {
    runs: { type: "string", default: "5" },
    "upload-runs": { type: "string", default: "3" },
    "transcode-runs": { type: "string", default: "1" },
    "transcode-seconds": { type: "string", default: "60" },
    "upload-mib": { type: "string", default: "2048" },
    "search-videos": { type: "string", default: "100000" },
    "search-per-kind": { type: "string", default: "200" },
    // The large section: its full default set takes about two and a half hours (bench/README.md).
    "large-minutes": { type: "string", default: "1,5,20" },
    "large-codecs": { type: "string", default: "h264,hevc" },
    "large-rss-gib": { type: "string", default: "10" },
    // Sources longer than this are timed to ready only, without waiting for their ladder; "none" waits for all.
    "large-ladder-max-minutes": { type: "string", default: "none" },
    "large-grace-seconds": { type: "string", default: "10" },
    // The ladder section (issue 11): the source's length, and the transcoder's slots of each stack run, in order.
    "ladder-minutes": { type: "string", default: "8" },
    "ladder-slots": { type: "string", default: "1,2" },
    "ladder-span-seconds": { type: "string", default: "60" },
    // "no" skips the spans' ffmpeg commands run by hand after the stacks (as long again as the plain ladder).
    "ladder-by-hand": { type: "string", default: "yes" },
    // The captions-search section: the catalogue, each video's caption track, and the runs of each query.
    "captions-videos": { type: "string", default: "20000" },
    "captions-cues": { type: "string", default: "100" },
    "captions-runs": { type: "string", default: "200" },
    // The private-playback section: requests of each file, public and private each.
    "playback-requests": { type: "string", default: "300" },
    // A partial run can be kept beside the full one instead of replacing it.
    out: { type: "string", default: "bench/results.json" },
  },
});
for (const p of positionals)
  if (!SECTIONS.includes(p)) throw new Error(`unknown section ${p}; known: ${SECTIONS.join(", ")}`);
const only = new Set(positionals);
const wanted = (name: string) => only.has(name) || (only.size === 0 && !ONLY_WHEN_NAMED.has(name));
const runs = Number(values.runs);

const firstLine = (file: string, args: string[]) => {
  try {
    return execFileSync(file, args, { encoding: "utf8", cwd: root, stdio: ["ignore", "pipe", "ignore"] })
      .split("\n")[0]
      .trim();
  } catch {
    return null;
  }
};

/** Everything needed to trace a row back to this run: when, where, with what, and the raw samples. */
const started = new Date();
const results: Record<string, unknown> = {
  date: started.toISOString(),
  command: `npm run bench${argv.length ? ` -- ${argv.join(" ")}` : ""}`,
  options: { ...values, sections: only.size ? [...only] : "all" },
  commit: firstLine("git", ["rev-parse", "HEAD"]),
  uncommittedChanges: (firstLine("git", ["status", "--porcelain"]) ?? "") !== "",
  machine: {
    cpus: cpus().length,
    cpu: cpus()[0]?.model,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    arch: arch(),
    kernel: release(),
    node: process.version,
    ffmpeg: firstLine(ffmpegPaths().ffmpeg, ["-version"]),
    // The browser launchBrowser (test/browser/helpers.ts) starts.
    chromium: firstLine(process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", ["--version"]),
    loadAverageAtStart: loadavg(),
  },
  sections: {} as Record<string, unknown>,
};
const sections = results.sections as Record<string, unknown>;

const rows: (string | number)[][] = [];
/** Sections print as they finish, so a long run shows its progress; each keeps its rows beside its raw samples. */
const section = async <T>(name: string, measure: () => Promise<T>, toRows: (r: T) => (string | number)[][]) => {
  const t0 = new Date();
  const load = loadavg();
  const r = await measure();
  const added = toRows(r);
  rows.push(...added);
  sections[name] = {
    started: t0.toISOString(),
    seconds: Math.round((Date.now() - t0.getTime()) / 1000),
    loadAverageAtStart: load,
    rows: added,
    raw: r,
  };
  console.error(`[bench] ${name}: ${added.map((row) => row.slice(0, 4).join(" | ")).join("; ")}`);
};

if (wanted("upload")) {
  await section(
    "upload",
    () => benchUpload(Number(values["upload-mib"]) * 1024 * 1024, Number(values["upload-runs"])),
    uploadRows,
  );
}

for (const codec of ["h264", "hevc"] as const) {
  if (!wanted("transcode") && !wanted(`transcode-${codec}`)) continue;
  await section(
    `transcode-${codec}`,
    () => benchTranscode(codec, Number(values["transcode-seconds"]), Number(values["transcode-runs"])),
    transcodeRows,
  );
}

if (wanted("search")) {
  await section(
    "search",
    () => benchSearch(Number(values["search-videos"]), Number(values["search-per-kind"])),
    searchRows,
  );
}

if (wanted("first-frame")) {
  await section("first-frame", () => benchFirstFrame(runs), firstFrameRows);
}

if (wanted("large")) {
  const list = (s: string) => s.split(",").filter(Boolean);
  const codecs = list(values["large-codecs"]);
  for (const c of codecs) if (c !== "h264" && c !== "hevc") throw new Error(`--large-codecs: unknown codec ${c}`);
  const ladderMax = values["large-ladder-max-minutes"];
  await section(
    "large",
    () =>
      benchLarge({
        minutes: list(values["large-minutes"]).map(Number),
        codecs: codecs as Codec[],
        rssGiB: Number(values["large-rss-gib"]),
        ladderMaxMinutes: ladderMax === "none" ? Number.POSITIVE_INFINITY : Number(ladderMax),
        graceSeconds: Number(values["large-grace-seconds"]),
      }),
    largeRows,
  );
}

if (wanted("ladder")) {
  await section(
    "ladder",
    () =>
      benchLadder({
        minutes: Number(values["ladder-minutes"]),
        slots: values["ladder-slots"].split(",").filter(Boolean).map(Number),
        spanSeconds: Number(values["ladder-span-seconds"]),
        modelMinutes: [8, 20, 60],
        modelInstances: [10, 50, 100],
        byHand: values["ladder-by-hand"] !== "no",
      }),
    ladderRows,
  );
}

if (wanted("captions-search")) {
  await section(
    "captions-search",
    () =>
      benchCaptionsSearch(
        Number(values["captions-videos"]),
        Number(values["captions-cues"]),
        Number(values["captions-runs"]),
      ),
    captionsSearchRows,
  );
}

if (wanted("private-playback")) {
  await section(
    "private-playback",
    () => benchPrivatePlayback(Number(values["playback-requests"])),
    privatePlaybackRows,
  );
}

const out = table(["measure", "Reelay", "baseline (same run)", "ratio", "spread / notes"], rows);
console.log(`\n${out}\n`);
results.finished = new Date().toISOString();
results.minutes = Math.round((Date.now() - started.getTime()) / 6000) / 10;
(results.machine as Record<string, unknown>).loadAverageAtEnd = loadavg();
await writeFile(resolve(root, values.out), `${JSON.stringify({ ...results, table: out }, null, 2)}\n`);

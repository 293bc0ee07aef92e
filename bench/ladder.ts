/**
 * `npm run bench -- ladder`: the ladder encoded in spans (issue 11).
 *
 * For an 8-minute 1080p30 H.264/AAC source (one generated camera-like minute
 * repeated with `-c copy`, as `large` makes its sources):
 * - the whole-file ladder as ONE plain ffmpeg command on local disk (the
 *   transcoder's own `encodeRun` of every rung, transcoder/encode.ts), its
 *   wall time and CPU seconds (user + system, by /usr/bin/time);
 * - the real stack with TRANSCODER_CONCURRENCY=1 and then =2 (a fresh stack
 *   each): completion → ready and completion → full ladder, every span's
 *   time from the transcoder's own log lines, and the CPU seconds of every
 *   process the transcoder ran (its reaped children's cutime + cstime), split
 *   at the first span's hand-off into the first task's and the spans';
 * - a model of the ladder's wall time for 8, 20 and 60 minutes at 10, 50 and
 *   100 instances, from the measured span times and the container start
 *   latency, beside Mux's published median time-to-publish.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { encodeRun, type FfmpegRun, ffmpegArgs, spanRun } from "../transcoder/encode.ts";
import { ffmpegPaths } from "../transcoder/ffmpeg-path.ts";
import { frameRateFraction, planTranscode, segmentFrames } from "../transcoder/plan.ts";
import { probeSource } from "../transcoder/probe.ts";
import { openFile } from "../web/cli/file-source.ts";
import { upload } from "../web/src/upload-client.ts";
import { planSpans } from "../worker/video-object/ladder.ts";
import { root, type Stack, startStack } from "../test/stack.ts";
import { descendants, MB, median } from "./lib.ts";
import { makeLongSource, MUX_MEDIANS, VIDEO_KBPS } from "./large.ts";

const run = promisify(execFile);
/** Kept between runs (git-ignored): the source takes minutes to make. */
const tmp = join(root, "bench/tmp/ladder");
/** Linux's USER_HZ: /proc/<pid>/stat counts CPU time in these. */
const CLOCK_TICKS = 100;
/** How often the transcoder's CPU counters are read. */
const SAMPLE_MS = 250;

/**
 * The production instance a span runs on (wrangler.toml `instance_type`):
 * standard-1, ½ vCPU, 4 GiB, 8 GB disk
 * (https://developers.cloudflare.com/containers/platform/limits/).
 */
const STANDARD_1_VCPU = 0.5;
/**
 * Container start latency: Cloudflare quotes cold starts of about 1–3 s with
 * images pre-fetched across its network (Immerse Stockholm 2026 talk, "Edge
 * Containers under the lid and why cold start matters"); the model takes the
 * upper end. @cloudflare/containers gives a start 8 s before it times out.
 */
const COLD_START_SEC = { low: 1, used: 3 };
const SOURCES = {
  instanceTypes: "https://developers.cloudflare.com/containers/platform/limits/",
  coldStart:
    "https://rewiz.app/channels/@cloudflare/edge-containers-under-the-lid-and-why-cold-start-matters-immerse-stockholm-2026",
  mux: "https://www.mux.com/ (median time-to-publish by length, as quoted in issue 18)",
};
const CPU_TARGET_RATIO = 1.1;

export type LadderOptions = {
  minutes: number;
  /** TRANSCODER_CONCURRENCY of each stack run, in order. */
  slots: number[];
  spanSeconds: number;
  modelMinutes: number[];
  modelInstances: number[];
  /** Also run the spans' ffmpeg commands by hand from local disk, after the stacks (as long again as the plain command). */
  byHand: boolean;
};

export type Timed = { wallSec: number; userSec: number; sysSec: number; cpuSec: number };
export type PlainLadder = Timed & { args: string[] };

/** The spans' own ffmpeg commands (encode.ts `spanRun`), one after another on local disk: no worker, no probe. */
export type SpansByHand = Timed & {
  spans: (Timed & { index: number; startSec: number; frames: number | null })[];
  firstArgs: string[];
};

/** One span's successful try, from the transcoder's log lines; seconds from the completion response. */
export type SpanTiming = {
  index: number;
  attempt: number;
  acceptedSec: number;
  probedSec: number;
  completedSec: number;
  /** accepted → span_completed. */
  wallSec: number;
  /** accepted → probed: the span's own probe of the source through the worker. */
  probeSec: number;
  /** With one slot only (nothing else runs beside the span): CPU of its processes, its probe's and its encode's apart. */
  cpuSec: number | null;
  probeCpuSec: number | null;
  /** probed → the encode's ffmpeg reaped (the last rise of the children's CPU before span_completed). */
  encodeSec: number | null;
  encodeCpuSec: number | null;
  /** ffmpeg reaped → span_completed: the segments uploaded through the worker. */
  uploadSec: number | null;
};

type CpuSample = { at: number; self: number; children: number };

export type SpansRun = {
  slots: number;
  spanSeconds: number;
  uploadSec: number;
  readySec: number;
  ladderSec: number;
  /** The first task's `playable` publish (the one naming the ladder), and the first span's hand-off. */
  playableLoggedSec: number | null;
  firstSpanAcceptedSec: number;
  /** The last span_completed → the ladder seen complete (the Durable Object's stitch, then one poll). */
  stitchSec: number;
  spans: SpanTiming[];
  /** Tries that did not complete (failed, superseded), by their log line. */
  otherTries: { event: string; span: number; attempt: number; atSec: number }[];
  /** With one slot: previous span_completed → next job.accepted (the Durable Object and the queue's hand-off). */
  handOffGapsSec: number[];
  /** CPU of the processes the transcoder ran (ffmpeg, ffprobe), reaped by it: cutime + cstime. */
  cpu: { firstTaskSec: number; spansSec: number; totalSec: number; transcoderNodeSec: number };
  transcoderRestarted: boolean;
};

export type LadderModelRow = {
  minutes: number;
  spans: number;
  instances: number;
  waves: number;
  /** Completion → the first span handed off, scaled from this run (the first task's copy grows with length). */
  beforeSpansSec: number;
  localSec: number;
  standard1Sec: number;
  muxLabel: string;
};

export type LadderBench = {
  options: LadderOptions;
  source: { minutes: number; bytes: number; durationSec: number; videoKbps: number };
  plain: PlainLadder;
  byHand: SpansByHand | { error: string } | null;
  runs: (SpansRun | { slots: number; error: string; stackLog?: string })[];
  model: {
    perSpanLocalSec: number;
    perSpanStandard1Sec: number;
    encodeCpuPerSpanSec: number;
    probeSec: number;
    uploadSec: number;
    coldStartSec: number;
    stitchSec: number;
    readySec: number;
    beforeSpansSec: number;
    standard1Vcpu: number;
    rows: LadderModelRow[];
  } | null;
  sources: typeof SOURCES;
  muxMedians: typeof MUX_MEDIANS;
};

const shortPaths = (args: string[]) => args.map((a) => a.split(tmp).join("bench/tmp/ladder"));

/**
 * One ffmpeg run on local disk, niced as the transcoder nices its ladder
 * (encode.ts BACKGROUND_NICENESS) so both meet any other load on the
 * machine alike; /usr/bin/time gives its wall and CPU seconds.
 */
async function timedFfmpeg(spec: FfmpegRun): Promise<Timed & { args: string[] }> {
  const args = ["nice", "-n", "10", ffmpegPaths().ffmpeg, "-v", "error", ...ffmpegArgs(spec)];
  for (const o of spec.outputs) await mkdir(dirname(o.path), { recursive: true });
  const timeFile = join(tmp, "ffmpeg.time");
  await run("/usr/bin/time", ["-f", "%e %U %S", "-o", timeFile, ...args], { maxBuffer: 1 << 24 });
  const last = (await readFile(timeFile, "utf8")).trim().split("\n").pop()!;
  const [wallSec, userSec, sysSec] = last.split(" ").map(Number);
  return {
    args: shortPaths(["nice", "-n", "10", "ffmpeg", ...args.slice(4)]),
    wallSec,
    userSec,
    sysSec,
    cpuSec: userSec + sysSec,
  };
}

/** The whole-file ladder as one plain ffmpeg command: the transcoder's own `encodeRun` of every rung. */
async function plainLadder(path: string): Promise<PlainLadder> {
  const info = await probeSource(path);
  const plan = planTranscode(info);
  const workDir = join(tmp, "plain");
  await rm(workDir, { recursive: true, force: true });
  try {
    return await timedFfmpeg(encodeRun({ source: { path }, workDir, durationSec: info.durationSec }, plan.rungs, plan));
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

/**
 * The spans' encodes alone: the Durable Object's cut (planSpans) of the
 * ladder the first task leaves for this source (every rung: it was copied),
 * each span's own ffmpeg command run by hand from local disk. Beside the
 * plain command it isolates what cutting the encode costs, without the
 * worker, the reads over HTTP, the probes and the uploads.
 */
async function spansByHand(path: string, spanSeconds: number): Promise<SpansByHand> {
  const info = await probeSource(path);
  const plan = planTranscode(info);
  const planned = planSpans(
    {
      rungs: plan.rungs.map((r) => r.name),
      frameRate: frameRateFraction(plan.frameRateExpr),
      segmentFrames: segmentFrames(plan),
      durationSec: info.durationSec,
    },
    spanSeconds,
  );
  const spans: SpansByHand["spans"] = [];
  let firstArgs: string[] = [];
  for (const s of planned) {
    const workDir = join(tmp, `span-${s.index}`);
    await rm(workDir, { recursive: true, force: true });
    try {
      const job = { source: { path }, workDir, durationSec: s.durationSec };
      const t = await timedFfmpeg(spanRun(job, plan.rungs, plan, { ...s, attempt: 1 }));
      if (s.index === 0) firstArgs = t.args;
      spans.push({
        index: s.index,
        startSec: s.startSec,
        frames: s.frames,
        wallSec: t.wallSec,
        userSec: t.userSec,
        sysSec: t.sysSec,
        cpuSec: t.cpuSec,
      });
    } finally {
      await rm(workDir, { recursive: true, force: true });
    }
  }
  const total = (k: keyof Timed) => spans.reduce((a, s) => a + s[k], 0);
  return {
    spans,
    firstArgs,
    wallSec: total("wallSec"),
    userSec: total("userSec"),
    sysSec: total("sysSec"),
    cpuSec: total("cpuSec"),
  };
}

/** utime + stime of the process itself and cutime + cstime of its reaped children, in seconds. */
function cpuOf(pid: number): { self: number; children: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command, which may hold spaces: state is field 3, utime 14 … cstime 17.
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const n = (i: number) => Number(f[i - 3]) / CLOCK_TICKS;
    return { self: n(14) + n(15), children: n(16) + n(17) };
  } catch {
    return null;
  }
}

/**
 * The stack's transcoder: the Node process running transcoder/server.ts under
 * `npm start`. Found by its command line, not its name: the `node` package's
 * binary names its main thread `MainThread`.
 */
function transcoderPid(stack: Stack): number | null {
  for (const pid of descendants(stack.process.pid!)) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("transcoder/server.ts")) return pid;
    } catch {}
  }
  return null;
}

/** Reads the transcoder's CPU counters every SAMPLE_MS, with wall-clock times to match its log lines. */
function cpuSampler(pid: number) {
  const samples: CpuSample[] = [];
  let lost = false;
  const take = () => {
    const c = cpuOf(pid);
    if (c) samples.push({ at: Date.now(), ...c });
    else lost = true;
  };
  take();
  const timer = setInterval(take, SAMPLE_MS);
  return {
    samples,
    lost: () => lost,
    stop: () => {
      take();
      clearInterval(timer);
    },
  };
}

/** The last sample at or before `at` (counters only rise, so this is what had been reaped by then). */
function sampleAt(samples: CpuSample[], at: number): CpuSample {
  let found = samples[0];
  for (const s of samples) if (s.at <= at) found = s;
  return found;
}

/** When the children's CPU last rose within (from, to]: the last process reaped before `to`. */
function lastRise(samples: CpuSample[], from: number, to: number): number | null {
  let at: number | null = null;
  for (let i = 1; i < samples.length; i++)
    if (samples[i].at > from && samples[i].at <= to && samples[i].children > samples[i - 1].children)
      at = samples[i].at;
  return at;
}

type LogLine = {
  time: string;
  event: string;
  jobId?: string;
  videoId?: string;
  span?: number;
  spanAttempt?: number;
  attempt?: number;
};

/** The transcoder's JSON log lines in the stack's output (wrangler's lines are not JSON). */
function logLines(output: string): LogLine[] {
  const lines: LogLine[] = [];
  for (const text of output.split("\n")) {
    const t = text.trim();
    if (!t.startsWith("{")) continue;
    try {
      const l = JSON.parse(t) as LogLine;
      if (typeof l.event === "string" && typeof l.time === "string") lines.push(l);
    } catch {}
  }
  return lines;
}

type VideoState = { status: string; progress?: number; error?: string; ladderComplete?: boolean };
const ladderDone = (v: VideoState) =>
  v.status === "ready" && (v.ladderComplete !== undefined ? v.ladderComplete : v.progress === undefined);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls every 100 ms from the completion response until ready, then until the whole ladder is published. */
async function follow(stack: Stack, videoId: string, completedAt: number, timeoutSec: number) {
  let readySec: number | undefined;
  for (;;) {
    const atSec = (Date.now() - completedAt) / 1000;
    const v = (await (await fetch(`${stack.url}/api/videos/${videoId}`)).json()) as VideoState;
    if (v.status === "failed") throw new Error(`processing failed: ${v.error}`);
    if (v.status === "ready" && readySec === undefined) readySec = atSec;
    if (ladderDone(v)) return { readySec: readySec!, ladderSec: atSec, ladderAt: Date.now() };
    if (atSec > timeoutSec)
      throw new Error(`video ${videoId} not ${readySec === undefined ? "ready" : "fully processed"} after ${atSec} s`);
    await sleep(100);
  }
}

async function spansRun(path: string, slots: number, spanSeconds: number, minutes: number): Promise<SpansRun> {
  const stack = await startStack({
    // dev/start.ts passes the transcoder its concurrency and the Worker every setting set here.
    env: { TRANSCODER_CONCURRENCY: String(slots), SPAN_SECONDS: String(spanSeconds) },
  });
  try {
    const pid = transcoderPid(stack);
    if (!pid) throw new Error("the stack's transcoder process was not found");
    const sampler = cpuSampler(pid);
    let followed: { readySec: number; ladderSec: number; ladderAt: number };
    let completedAt: number;
    let uploadSec: number;
    try {
      const started = Date.now();
      const up = await upload({
        endpoint: stack.url,
        file: await openFile(path),
        filename: `ladder-${minutes}min.mp4`,
        contentType: "video/mp4",
        concurrency: 4,
      });
      completedAt = Date.now();
      uploadSec = (completedAt - started) / 1000;
      // Generous: the 8-minute ladder takes ~10 minutes on these 2 cores.
      followed = await follow(stack, up.videoId, completedAt, 600 + 300 * minutes);
      await sleep(1000);
    } finally {
      sampler.stop();
    }
    return analyse(stack, sampler.samples, sampler.lost(), { slots, spanSeconds, completedAt, uploadSec, ...followed });
  } catch (err) {
    throw Object.assign(new Error((err as Error).message), { stackLog: stack.output().slice(-4000) });
  } finally {
    await stack.stop();
  }
}

function analyse(
  stack: Stack,
  samples: CpuSample[],
  lost: boolean,
  r: {
    slots: number;
    spanSeconds: number;
    completedAt: number;
    uploadSec: number;
    readySec: number;
    ladderSec: number;
    ladderAt: number;
  },
): SpansRun {
  const sec = (at: number) => (at - r.completedAt) / 1000;
  const at = (l: LogLine) => Date.parse(l.time);
  const lines = logLines(stack.output());
  const spanLines = lines.filter((l) => l.span !== undefined);
  const tryKey = (l: LogLine) => `${l.span}.${l.spanAttempt ?? l.attempt}`;
  const accepted = new Map(spanLines.filter((l) => l.event === "job.accepted").map((l) => [tryKey(l), l]));
  const probed = new Map(spanLines.filter((l) => l.event === "job.probed").map((l) => [tryKey(l), l]));
  const completed = spanLines.filter((l) => l.event === "job.span_completed");
  if (completed.length === 0) throw new Error("no job.span_completed in the transcoder's log");
  const oneSlot = r.slots === 1;
  const spans: SpanTiming[] = completed
    .map((c) => {
      const key = tryKey(c);
      const a = accepted.get(key);
      const p = probed.get(key);
      if (!a || !p) throw new Error(`span try ${key}: no job.accepted or job.probed logged`);
      const [ta, tp, tc] = [at(a), at(p), at(c)];
      const reaped = oneSlot ? lastRise(samples, tp, tc) : null;
      return {
        index: c.span!,
        attempt: c.spanAttempt ?? c.attempt ?? 1,
        acceptedSec: sec(ta),
        probedSec: sec(tp),
        completedSec: sec(tc),
        wallSec: (tc - ta) / 1000,
        probeSec: (tp - ta) / 1000,
        cpuSec: oneSlot ? sampleAt(samples, tc).children - sampleAt(samples, ta).children : null,
        probeCpuSec: oneSlot ? sampleAt(samples, tp).children - sampleAt(samples, ta).children : null,
        encodeSec: reaped === null ? null : (reaped - tp) / 1000,
        encodeCpuSec: reaped === null ? null : sampleAt(samples, reaped).children - sampleAt(samples, tp).children,
        uploadSec: reaped === null ? null : (tc - reaped) / 1000,
      };
    })
    .sort((a, b) => a.index - b.index);
  const done = new Set(completed.map(tryKey));
  const otherTries = spanLines
    .filter(
      (l) =>
        l.event !== "job.accepted" &&
        l.event !== "job.probed" &&
        l.event !== "job.progress_failed" &&
        !done.has(tryKey(l)),
    )
    .map((l) => ({ event: l.event, span: l.span!, attempt: (l.spanAttempt ?? l.attempt)!, atSec: sec(at(l)) }));
  const firstAccepted = Math.min(...[...accepted.values()].map(at));
  const lastCompleted = Math.max(...completed.map(at));
  const byStart = [...spans].sort((a, b) => a.acceptedSec - b.acceptedSec);
  const playable = lines.find((l) => l.event === "job.playable" && l.span === undefined);
  const start = samples[0];
  const end = samples[samples.length - 1];
  const split = sampleAt(samples, firstAccepted);
  return {
    slots: r.slots,
    spanSeconds: r.spanSeconds,
    uploadSec: r.uploadSec,
    readySec: r.readySec,
    ladderSec: r.ladderSec,
    playableLoggedSec: playable ? sec(at(playable)) : null,
    firstSpanAcceptedSec: sec(firstAccepted),
    stitchSec: (r.ladderAt - lastCompleted) / 1000,
    spans,
    otherTries,
    handOffGapsSec: oneSlot ? byStart.slice(1).map((s, i) => s.acceptedSec - byStart[i].completedSec) : [],
    cpu: {
      firstTaskSec: split.children - start.children,
      spansSec: end.children - split.children,
      totalSec: end.children - start.children,
      transcoderNodeSec: end.self - start.self,
    },
    transcoderRestarted: lost,
  };
}

/** Mux's median for a length; a length on a bucket's edge gets both neighbours, as Mux's labels share their ends. */
function muxFor(minutes: number): string {
  const i = MUX_MEDIANS.findIndex((m) => minutes <= m.upToMinutes);
  const m = MUX_MEDIANS[i];
  const next = MUX_MEDIANS[i + 1];
  if (next && minutes === m.upToMinutes) return `${m.seconds}–${next.seconds} s (${m.label} / ${next.label})`;
  return `${m.seconds} s (${m.label})`;
}

/**
 * Ladder wall time for L minutes on N instances: what comes before the spans
 * (completion → first span handed off, measured here; its part after `ready`
 * is the first task finishing its copy of the source, which grows with the
 * length, so it is scaled by L / measured length), then ceil(spans / N) waves,
 * each a container start and one span, then the stitch (measured).
 */
function model(o: LadderOptions, runs: SpansRun[], durationSec: number): LadderBench["model"] {
  const one = runs.find((r) => r.slots === 1);
  if (!one) return null;
  // Full spans only: the last one runs to the end and may be shorter or longer.
  const full = one.spans.filter((s) => s.index < one.spans.length - 1);
  const use = full.length > 0 ? full : one.spans;
  const perSpanLocalSec = median(use.map((s) => s.wallSec));
  const probeSec = median(use.map((s) => s.probeSec));
  const uploadSec = median(use.map((s) => s.uploadSec ?? 0));
  const encodeCpuPerSpanSec = median(use.map((s) => s.encodeCpuSec ?? s.cpuSec ?? 0));
  // CPU-bound at ½ vCPU: the encode takes its CPU seconds twice over; the probe and the uploads as measured here.
  const perSpanStandard1Sec = probeSec + encodeCpuPerSpanSec / STANDARD_1_VCPU + uploadSec;
  const measuredMinutes = durationSec / 60;
  const rows: LadderModelRow[] = [];
  for (const minutes of o.modelMinutes)
    for (const instances of o.modelInstances) {
      const spans = Math.max(1, Math.round((minutes * 60) / o.spanSeconds));
      const waves = Math.ceil(spans / instances);
      const beforeSpansSec = one.readySec + (one.firstSpanAcceptedSec - one.readySec) * (minutes / measuredMinutes);
      const after = (perSpan: number) => beforeSpansSec + waves * (COLD_START_SEC.used + perSpan) + one.stitchSec;
      rows.push({
        minutes,
        spans,
        instances,
        waves,
        beforeSpansSec,
        localSec: after(perSpanLocalSec),
        standard1Sec: after(perSpanStandard1Sec),
        muxLabel: muxFor(minutes),
      });
    }
  return {
    perSpanLocalSec,
    perSpanStandard1Sec,
    encodeCpuPerSpanSec,
    probeSec,
    uploadSec,
    coldStartSec: COLD_START_SEC.used,
    stitchSec: one.stitchSec,
    readySec: one.readySec,
    beforeSpansSec: one.firstSpanAcceptedSec,
    standard1Vcpu: STANDARD_1_VCPU,
    rows,
  };
}

export async function benchLadder(o: LadderOptions): Promise<LadderBench> {
  const path = await makeLongSource("h264", o.minutes, tmp);
  const bytes = (await stat(path)).size;
  const durationSec = (await probeSource(path)).durationSec;
  console.error(
    `[bench] ladder: source ${(bytes / MB).toFixed(0)} MB, ${durationSec.toFixed(1)} s; plain ffmpeg ladder…`,
  );
  const plain = await plainLadder(path);
  console.error(`[bench] ladder: plain ${plain.wallSec.toFixed(1)} s wall, ${plain.cpuSec.toFixed(1)} CPU s`);
  const runs: LadderBench["runs"] = [];
  const result: LadderBench = {
    options: o,
    source: { minutes: o.minutes, bytes, durationSec, videoKbps: VIDEO_KBPS },
    plain,
    byHand: null,
    runs,
    model: null,
    sources: SOURCES,
    muxMedians: MUX_MEDIANS,
  };
  // What is measured so far, kept after each step: a run stopped midway still leaves its figures.
  const keep = () => writeFile(join(tmp, "partial.json"), `${JSON.stringify(result, null, 2)}\n`);
  await keep();
  for (const slots of o.slots) {
    try {
      const r = await spansRun(path, slots, o.spanSeconds, o.minutes);
      console.error(
        `[bench] ladder ${slots} slot(s): ready ${r.readySec.toFixed(1)} s, ladder ${r.ladderSec.toFixed(1)} s, spans CPU ${r.cpu.spansSec.toFixed(1)} s`,
      );
      runs.push(r);
    } catch (err) {
      const { message, stackLog } = err as Error & { stackLog?: string };
      console.error(`[bench] ladder ${slots} slot(s) failed: ${message}`);
      runs.push({ slots, error: message, stackLog });
    }
    await keep();
  }
  result.model = model(
    o,
    runs.filter((r): r is SpansRun => !("error" in r)),
    durationSec,
  );
  await keep();
  if (o.byHand) {
    result.byHand = await spansByHand(path, o.spanSeconds).catch((err: Error) => ({ error: err.message }));
    if (!("error" in result.byHand))
      console.error(
        `[bench] ladder: spans by hand ${result.byHand.wallSec.toFixed(1)} s wall, ${result.byHand.cpuSec.toFixed(1)} CPU s`,
      );
    await keep();
  }
  return result;
}

const s1 = (x: number) => `${x.toFixed(1)} s`;
const minSec = (x: number) => (x >= 120 ? `${(x / 60).toFixed(1)} min` : s1(x));

/** The run's rows, in the table's columns: measure, Reelay, baseline, ratio, notes. */
export function ladderRows(r: LadderBench): (string | number)[][] {
  const rows: (string | number)[][] = [];
  const label = `${r.source.minutes} min 1080p H.264 (${(r.source.bytes / MB).toFixed(0)} MB)`;
  const plainWall = `one plain ffmpeg ladder command, local disk: ${s1(r.plain.wallSec)}`;
  for (const run of r.runs) {
    if ("error" in run) {
      rows.push([`${label}, ${run.slots} slot(s)`, "failed", "–", "–", run.error]);
      continue;
    }
    const slots = `${run.slots} transcoder slot${run.slots > 1 ? "s" : ""}`;
    const walls = run.spans.map((s) => s.wallSec);
    rows.push([
      `${label}: completion → full ladder, ${slots}`,
      `${s1(run.ladderSec)} (${(run.ladderSec / r.source.durationSec).toFixed(2)}× duration)`,
      plainWall,
      (run.ladderSec / r.plain.wallSec).toFixed(2),
      `ready ${s1(run.readySec)}; first span handed off ${s1(run.firstSpanAcceptedSec)}; ${run.spans.length} spans of ${run.spanSeconds} s, each ${s1(median(walls))} median (${s1(Math.min(...walls))}–${s1(Math.max(...walls))}); stitch ${s1(run.stitchSec)}; ${run.otherTries.length} other tries; n=1`,
    ]);
    const sum = (xs: (number | null)[]) => xs.reduce<number>((a, x) => a + (x ?? 0), 0);
    const apart = run.spans.every((s) => s.encodeCpuSec !== null && s.probeCpuSec !== null)
      ? `; of it the spans' probes ${s1(sum(run.spans.map((s) => s.probeCpuSec)))}, their encodes ${s1(sum(run.spans.map((s) => s.encodeCpuSec)))} (×${(sum(run.spans.map((s) => s.encodeCpuSec)) / r.plain.cpuSec).toFixed(3)} the plain command)`
      : "";
    rows.push([
      `${label}: CPU of the span tasks, ${slots}`,
      `${s1(run.cpu.spansSec)}`,
      `plain ladder command: ${s1(r.plain.cpuSec)} (user ${s1(r.plain.userSec)} + sys ${s1(r.plain.sysSec)})`,
      (run.cpu.spansSec / r.plain.cpuSec).toFixed(3),
      `target ≤ ${CPU_TARGET_RATIO}: ${run.cpu.spansSec <= r.plain.cpuSec * CPU_TARGET_RATIO ? "met" : "missed"}; every process the transcoder ran from the first span's hand-off (ffmpeg, ffprobe); the first task (copy, poster, probe) ${s1(run.cpu.firstTaskSec)} more, all ${s1(run.cpu.totalSec)} (×${(run.cpu.totalSec / r.plain.cpuSec).toFixed(3)}); the transcoder's own Node ${s1(run.cpu.transcoderNodeSec)}${apart}`,
    ]);
  }
  const h = r.byHand;
  if (h && "error" in h) rows.push([`${label}: the spans' ffmpeg commands by hand`, "failed", "–", "–", h.error]);
  else if (h) {
    const cpus = h.spans.map((s) => s.cpuSec);
    rows.push([
      `${label}: CPU of the spans' ffmpeg commands by hand, local disk, one after another`,
      `${s1(h.cpuSec)} (wall ${s1(h.wallSec)})`,
      `plain ladder command: ${s1(r.plain.cpuSec)} (wall ${s1(r.plain.wallSec)})`,
      (h.cpuSec / r.plain.cpuSec).toFixed(3),
      `${h.spans.length} spans, ${s1(Math.min(...cpus))}–${s1(Math.max(...cpus))} CPU each; what cutting the encode costs, without the worker, HTTP reads, probes or uploads; run after the stacks`,
    ]);
  }
  const m = r.model;
  if (m)
    for (const row of m.rows)
      rows.push([
        `model: ${row.minutes} min 1080p, ${row.spans} spans on ${row.instances} instances (${row.waves} wave${row.waves > 1 ? "s" : ""})`,
        `standard-1: ${minSec(row.standard1Sec)}; 2 cores each: ${minSec(row.localSec)}`,
        `Mux median time-to-publish: ${row.muxLabel}`,
        "–",
        `Mux's figure is time-to-publish, the yardstick of ready (measured here: ${s1(m.readySec)}), not of the ladder; before the spans ${s1(row.beforeSpansSec)}; per wave ${m.coldStartSec} s start + ${s1(m.perSpanStandard1Sec)} (standard-1) / ${s1(m.perSpanLocalSec)} (here); stitch ${s1(m.stitchSec)}`,
      ]);
  return rows;
}

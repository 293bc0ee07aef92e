/** Shared helpers for tests against the real stack: media, polling, inspection. */
import { execFile, execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readdirSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { promisify } from "node:util";
import { ffmpegPaths } from "../transcoder/ffmpeg-path.ts";
import type { Stack } from "./stack.ts";

export const run = promisify(execFile);

/** A test clip from ffmpeg's testsrc2/sine; `noise` makes it large and incompressible. */
export async function makeVideo(path: string, opts: { size: string; seconds: number; noise?: boolean; audio?: boolean }): Promise<string> {
  const audio = opts.audio ?? true;
  await run(ffmpegPaths().ffmpeg, [
    "-y", "-v", "error", "-f", "lavfi", "-i", `testsrc2=size=${opts.size}:rate=30:duration=${opts.seconds}`,
    ...(audio ? ["-f", "lavfi", "-i", `sine=frequency=440:duration=${opts.seconds}`] : []),
    ...(opts.noise ? ["-vf", "noise=alls=60:allf=t", "-qp", "0"] : ["-g", "60"]),
    "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
    ...(audio ? ["-c:a", "aac", "-shortest"] : []), "-movflags", "+faststart", path,
  ], { maxBuffer: 1 << 24 });
  return path;
}

export const sha256 = (data: Uint8Array) => createHash("sha256").update(data).digest("hex");
export const sha256File = async (path: string) => sha256(await readFile(path));

export type VideoView = {
  id: string; title: string; status: string; progress?: number; error?: string;
  playback: { hls: string | null; poster: string | null }; renditions: { name: string }[];
};

export const isFinal = (v: VideoView) => v.status === "ready" && v.progress === undefined;

export async function waitForVideo(base: string, id: string, done: (v: VideoView) => boolean, timeoutMs: number): Promise<VideoView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = (await (await fetch(`${base}/api/videos/${id}`)).json()) as VideoView;
    if (done(v)) return v;
    if (v.status === "failed") throw new Error(`processing of ${id} failed: ${v.error}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${id}; last: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The stored source, downloaded with the owner's token, as a SHA-256. */
export async function sourceSha256(base: string, videoId: string, token: string): Promise<string> {
  const res = await fetch(`${base}/api/videos/${videoId}/source`, { headers: { authorization: `Bearer ${token}` } });
  if (res.status !== 200) throw new Error(`source: ${res.status}`);
  return sha256(new Uint8Array(await res.arrayBuffer()));
}

/** Every R2 key under a prefix, read from the local simulator's own database. */
export function storedKeys(stateDir: string, prefix: string): string[] {
  const r2 = join(stateDir, "v3/r2/miniflare-R2BucketObject");
  const keys: string[] = [];
  for (const f of readdirSync(r2).filter((f) => f.endsWith(".sqlite") && f !== "metadata.sqlite")) {
    const db = new DatabaseSync(join(r2, f), { readOnly: true });
    try {
      for (const row of db.prepare("SELECT key FROM _mf_objects WHERE substr(key, 1, ?) = ?").all(prefix.length, prefix)) keys.push(String(row.key));
    } finally {
      db.close();
    }
  }
  return keys.sort();
}

/** Processes of a stack (its own process group) whose command line matches. */
export function stackProcesses(stack: Stack, match: (args: string) => boolean): number[] {
  const out = execFileSync("ps", ["-e", "-o", "pid=,pgid=,args="], { encoding: "utf8" });
  const pids: number[] = [];
  for (const line of out.split("\n")) {
    const m = /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line);
    if (m && Number(m[2]) === stack.process.pid && match(m[3])) pids.push(Number(m[1]));
  }
  return pids;
}

/** SIGKILLs the stack's transcoder process; `npm start` restarts it. Returns how many were killed. */
export function killTranscoder(stack: Stack): number {
  const pids = stackProcesses(stack, (a) => a.includes("transcoder/server.ts"));
  for (const pid of pids) process.kill(pid, "SIGKILL");
  return pids.length;
}

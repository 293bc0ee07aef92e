/**
 * Shared by the browser tests: Debian's Chromium through playwright-core,
 * generated test videos, polling the API, and screenshots saved under
 * test/artifacts/screenshots for people (and reviewers) to look at.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { chromium, type Browser, type Page } from "playwright-core";
import { ffmpegPaths } from "../../transcoder/ffmpeg-path.ts";
import { root } from "../stack.ts";

const run = promisify(execFile);

export const screenshotDir = join(root, "test/artifacts/screenshots");

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      // Playing without a click, as a person who pressed play would.
      "--autoplay-policy=no-user-gesture-required",
    ],
  });
}

/** A test pattern with a tone; `bitrate` pads it out to a file big enough for several chunks. */
export async function makeVideo(
  path: string,
  opts: { size: string; seconds: number; bitrate?: string },
): Promise<string> {
  const { ffmpeg } = ffmpegPaths();
  const rate = opts.bitrate
    ? [
        "-b:v",
        opts.bitrate,
        "-minrate",
        opts.bitrate,
        "-maxrate",
        opts.bitrate,
        "-bufsize",
        opts.bitrate,
        "-x264-params",
        "nal-hrd=cbr",
      ]
    : [];
  await run(ffmpeg, [
    "-y",
    "-v",
    "error",
    "-f",
    "lavfi",
    "-i",
    `testsrc2=size=${opts.size}:rate=30:duration=${opts.seconds}`,
    "-f",
    "lavfi",
    "-i",
    `sine=frequency=440:duration=${opts.seconds}`,
    "-c:v",
    "libx264",
    "-preset",
    "ultrafast",
    "-pix_fmt",
    "yuv420p",
    "-g",
    "60",
    ...rate,
    "-c:a",
    "aac",
    "-shortest",
    "-movflags",
    "+faststart",
    path,
  ]);
  return path;
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

export type ApiVideo = {
  id: string;
  title: string;
  status: string;
  progress?: number;
  error?: string;
  renditions: { name: string }[];
  playback: { hls: string | null; poster: string | null };
};

/** Polls GET /api/videos/:id until `done`; fails fast if processing fails. */
export async function waitForVideo(
  base: string,
  id: string,
  done: (v: ApiVideo) => boolean,
  timeoutMs = 120_000,
): Promise<ApiVideo> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = (await (await fetch(`${base}/api/videos/${id}`)).json()) as ApiVideo;
    if (done(v)) return v;
    if (v.status === "failed") throw new Error(`processing of ${id} failed: ${v.error}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${id}: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

export const fullyReady = (v: ApiVideo) => v.status === "ready" && v.progress === undefined;

export async function shot(page: Page, name: string, fullPage = true): Promise<void> {
  await mkdir(screenshotDir, { recursive: true });
  await page.screenshot({ path: join(screenshotDir, `${name}.png`), fullPage });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

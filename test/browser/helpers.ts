/**
 * Shared by the browser tests: Debian's Chromium through playwright-core,
 * generated test videos, polling the API, and screenshots saved under
 * test/artifacts/screenshots for people (and reviewers) to look at.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { root } from "../stack.ts";

export { makeVideo } from "../helpers.ts";

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

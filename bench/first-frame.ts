/**
 * Time to first frame on /watch/:id (hls.js, the real page) beside a plain
 * `<video src>` of the same video's source MP4 from the same server, in
 * headless Chromium, measured in the same run with a fresh context (empty
 * cache) for every load.
 */
import { readFile } from "node:fs/promises";
import { chromium, type Browser, type Page } from "playwright-core";
import { isFinal, waitForVideo } from "../test/helpers.ts";
import { startStack } from "../test/stack.ts";
import { upload } from "../web/src/upload-client.ts";
import { median } from "./lib.ts";
import { makeSource } from "./transcode.ts";

export type FirstFrameBench = { runs: number; watchMs: number[]; plainMs: number[] };

const CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--autoplay-policy=no-user-gesture-required"];

/** Milliseconds from navigation start until the first frame with currentTime > 0. */
async function firstFrame(page: Page): Promise<number> {
  return page.evaluate(async () => {
    const deadline = performance.now() + 60_000;
    let video = document.querySelector("video");
    while (!video && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
      video = document.querySelector("video");
    }
    const v = video!;
    v.muted = true;
    void v.play().catch(() => {});
    await new Promise<void>((resolve) => {
      const check = () => (v.currentTime > 0 ? resolve() : setTimeout(check, 5));
      check();
    });
    return performance.now();
  });
}

export async function benchFirstFrame(runs = 5): Promise<FirstFrameBench> {
  // 30 s is plenty to reach a first frame and keeps the section short.
  const source = await makeSource("h264", 30);
  const stack = await startStack();
  let browser: Browser | undefined;
  const result: FirstFrameBench = { runs, watchMs: [], plainMs: [] };
  try {
    const up = await upload({ endpoint: stack.url, file: new Blob([await readFile(source)]), filename: "ttff.mp4", contentType: "video/mp4", title: "First frame" });
    await waitForVideo(stack.url, up.videoId, isFinal, 900_000);
    browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_FLAGS });
    for (let i = 0; i < runs; i++) {
      for (const kind of ["watch", "plain"] as const) {
        const context = await browser.newContext();
        const page = await context.newPage();
        if (kind === "plain") {
          // The owner's source download needs the token: add it on the way out, as a player with credentials would.
          await page.route("**/api/videos/*/source", (route) => route.continue({ headers: { ...route.request().headers(), authorization: `Bearer ${up.uploadToken}` } }));
          await page.route("**/__bench/plain", (route) => route.fulfill({ contentType: "text/html", body: `<!doctype html><video src="/api/videos/${up.videoId}/source" muted playsinline></video>` }));
          await page.goto(`${stack.url}/__bench/plain`);
        } else {
          await page.goto(`${stack.url}/watch/${up.videoId}`);
        }
        (kind === "watch" ? result.watchMs : result.plainMs).push(await firstFrame(page));
        await context.close();
      }
    }
  } finally {
    await browser?.close();
    await stack.stop();
  }
  return result;
}

export function firstFrameRows(r: FirstFrameBench): (string | number)[][] {
  const spread = (xs: number[]) => `${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)} ms`;
  const w = median(r.watchMs);
  const p = median(r.plainMs);
  return [[
    "time to first frame, /watch/:id (hls.js, 30 s 1080p)", `${w.toFixed(0)} ms`, `plain <video src> of the source MP4: ${p.toFixed(0)} ms`,
    (w / p).toFixed(2), `${spread(r.watchMs)} / ${spread(r.plainMs)}, n=${r.runs}, fresh context each`,
  ]];
}

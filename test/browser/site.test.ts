// The web app in Debian's Chromium against the real stack (`npm start`):
// upload through /upload (interrupted by going offline and by a reload, then
// resumed by picking the same file again), search from the home page, play
// with hls.js and switch quality, edit and delete as the owner, and make sure
// a title full of HTML stays text everywhere. Screenshots of every state go
// to test/artifacts/screenshots.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, BrowserContext, Page, Request } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UploadStatusSchema } from "../../worker/contracts/upload.ts";
import { VideoSchema } from "../../worker/contracts/video.ts";
import { isFinal, makeVideo, sha256File, sourceSha256, stackProcesses, waitForVideo } from "../helpers.ts";
import { startStack, type Stack } from "../stack.ts";
import { launchBrowser, screenshotDir, shot, sleep } from "./helpers.ts";
import {
  type ChunkGate,
  gateChunks,
  measureFirstFrame,
  observe as observePage,
  recordedProgress,
  recordProgress,
  storedUploads,
  waitForProgress,
  type Observed,
} from "./page-probes.ts";

const XSS_TITLE = "<img src=x onerror=alert(1)>";
const TITLE = "Lighthouse zebrafinch sunrise";
const EDITED_TITLE = "Quokka lighthouse at dusk";

let stack: Stack;
/** The gate in front of the stack: every page and API call of these tests goes through it. */
let gate: ChunkGate;
let site = "";
let browser: Browser;
let context: BrowserContext;
let page: Page;
let dir: string;
let bigPath: string;
let smallPath: string;
let videoId = "";
let xssId = "";
let unlistedId = "";
let watcher: Page;
/** Transcoder processes paused with SIGSTOP, so processing cannot finish before the test has seen it. */
let pausedTranscoder: number[] = [];
const resumeTranscoder = () => {
  for (const pid of pausedTranscoder.splice(0)) process.kill(pid, "SIGCONT");
};
const seen: Observed = { dialogs: [], problems: [] };
const observe = (p: Page) => observePage(p, seen);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "reelay-browser-"));
  [stack, bigPath, smallPath, browser] = await Promise.all([
    startStack(),
    // ~37 MB: eight 5 MiB chunks, enough to interrupt the upload twice.
    makeVideo(join(dir, "lighthouse_sunrise.mp4"), { size: "1280x720", seconds: 12, bitrate: "25M" }),
    makeVideo(join(dir, "tiny.mp4"), { size: "320x240", seconds: 2 }),
    launchBrowser(),
  ]);
  // Chromium here takes ~2 s to read and hash each 5 MiB slice, and the page can lag
  // that long behind a chunk's answer: 2 s steps keep the bar's steps apart.
  gate = await gateChunks(stack.url, [1, 2, 3], 2000);
  site = gate.url;
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await measureFirstFrame(context);
  page = observe(await context.newPage());
});

afterAll(async () => {
  resumeTranscoder();
  await browser?.close();
  await gate?.close();
  await stack?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
  console.log(`screenshots: ${screenshotDir}`);
});

describe("Reelay in the browser", () => {
  it("uploads through /upload, survives going offline and a reload, and stores the exact bytes", async () => {
    await page.goto(`${site}/upload`);
    await page.setInputFiles("#files", bigPath);
    expect(await page.getByLabel("Title", { exact: true }).inputValue()).toBe("lighthouse sunrise");
    await page.getByLabel("Title", { exact: true }).fill(TITLE);
    await page.getByLabel("Description").fill("A test pattern at dawn.\nSecond line stays a line.");
    await page.getByLabel("Tags").fill("test, pattern");
    await recordProgress(page);
    await page.getByRole("button", { name: "Upload", exact: true }).click();

    // The bar moves chunk by chunk.
    await waitForProgress(page, 3 / 8 - 0.01);
    // The in-page recorder samples every 20 ms, and its timer can lag far behind under load: let it catch up with the bar.
    await expect
      .poll(async () => (await recordedProgress(page)).at(-1), { timeout: 15_000 })
      .toBeGreaterThanOrEqual(3 / 8 - 0.01);
    const values = await recordedProgress(page);
    expect(values.filter((v) => v > 0).length, `progress values ${values}`).toBeGreaterThanOrEqual(3);
    expect([...values].sort((a, b) => a - b)).toEqual(values);
    videoId = (await page.locator(".upload-card").first().getAttribute("data-video-id"))!;
    expect(videoId).toMatch(/^[a-z0-9]+$/);
    await shot(page, "upload-in-progress");

    // Offline: the held chunks 4 and 5 lose their connection, fail again while the
    // browser is offline, and are retried by the client once back online.
    const failedOffline: string[] = [];
    const onFailed = (r: Request) => {
      if (r.method() === "PUT" && /\/chunks\/[45]$/.test(r.url()))
        failedOffline.push(`${r.url().split("/").pop()}: ${r.failure()?.errorText}`);
    };
    page.on("requestfailed", onFailed);
    await gate.whenHeld(4, 5);
    await context.setOffline(true);
    gate.allow(4, 5);
    gate.dropHeld();
    await sleep(1500);
    page.off("requestfailed", onFailed);
    await context.setOffline(false);
    expect(failedOffline.length, "chunk PUTs that failed while offline").toBeGreaterThan(0);
    await waitForProgress(page, 5 / 8 - 0.01);
    expect(await page.locator(".upload-card").first().getAttribute("data-state")).toBe("uploading");

    // Pause and Resume: the server keeps what arrived; the upload carries on from there.
    await page.getByRole("button", { name: "Pause" }).click();
    await page.locator('.upload-card[data-state="paused"]').waitFor();
    await page.getByRole("button", { name: "Resume" }).click();
    await page.locator('.upload-card[data-state="uploading"]').waitFor();

    // A reload mid-upload: chunks 6-8 never arrive.
    await page.reload();
    gate.dropHeld();
    const resumeInput = page.getByLabel("Resume: choose the same file");
    await resumeInput.waitFor();
    await shot(page, "upload-unfinished-after-reload");
    const token = await page.evaluate((id) => localStorage.getItem(`reelay:owner:${id}`), videoId);
    expect(token).toBeTruthy();
    const status = UploadStatusSchema.parse(
      await (await fetch(`${site}/api/uploads/${videoId}`, { headers: { authorization: `Bearer ${token}` } })).json(),
    );
    expect(status.totalChunks).toBe(8);
    expect(status.received.sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5]);

    // Someone opens the watch page now: it follows upload, then processing.
    watcher = observe(await context.newPage());
    await watcher.goto(`${site}/watch/${videoId}`);
    await watcher.getByText("still being uploaded").waitFor();

    // Same file again: only the missing chunks are sent. The transcoder is paused meanwhile, so
    // the video stays processing until the watch page has been seen showing it.
    pausedTranscoder = stackProcesses(stack, (a) => a.includes("transcoder/server.ts"));
    expect(pausedTranscoder.length).toBe(1);
    for (const pid of pausedTranscoder) process.kill(pid, "SIGSTOP");
    gate.clearSent();
    gate.release(6, 7, 8);
    await resumeInput.setInputFiles(bigPath);
    await page
      .locator(
        `.upload-card[data-video-id="${videoId}"][data-state="processing"], .upload-card[data-video-id="${videoId}"][data-state="ready"]`,
      )
      .waitFor({ timeout: 60_000 });
    expect([...new Set(gate.sent)].sort()).toEqual([6, 7, 8]);
    gate.openAll();

    expect(await sourceSha256(site, videoId, token!)).toBe(await sha256File(bigPath));
    // Nothing left to resume.
    expect(await storedUploads(page)).toBe(0);
  });

  it("shows processing on the watch page and turns into the player when ready", async () => {
    const processing = watcher.locator(".processing");
    const player = watcher.locator("video");
    await processing.waitFor({ timeout: 30_000 });
    expect(await player.count()).toBe(0);
    expect(VideoSchema.parse(await (await fetch(`${site}/api/videos/${videoId}`)).json()).status).toBe("processing");
    await shot(watcher, "watch-processing");
    resumeTranscoder();
    await player.waitFor({ timeout: 90_000 });
    expect(await processing.count()).toBe(0);
    await watcher.close();
  });

  it("keeps an HTML title as text on the upload card", async () => {
    await page.setInputFiles("#files", smallPath);
    await page.getByLabel("Title", { exact: true }).fill(XSS_TITLE);
    await page.getByLabel("Tags").fill("xss");
    await page.getByRole("button", { name: "Upload", exact: true }).click();
    const card = page.locator("#upload-list .upload-card").first();
    await expect.poll(() => card.getAttribute("data-video-id")).toBeTruthy();
    xssId = (await card.getAttribute("data-video-id"))!;
    expect(await card.locator(".upload-card-title").textContent()).toBe(XSS_TITLE);
    expect(await card.locator("img").count()).toBe(0);

    // The same small file again, unlisted: playable by link, never listed.
    await page.setInputFiles("#files", smallPath);
    await page.getByLabel("Title", { exact: true }).fill("Secret wombat clip");
    await page.getByLabel("Visibility").selectOption("unlisted");
    await page.getByRole("button", { name: "Upload", exact: true }).click();
    const unlisted = page.locator("#upload-list .upload-card").first();
    await expect
      .poll(async () => {
        const id = await unlisted.getAttribute("data-video-id");
        return id !== null && id !== xssId;
      })
      .toBe(true);
    unlistedId = (await unlisted.getAttribute("data-video-id"))!;

    await card.locator(".watch-link").waitFor({ timeout: 120_000 });
    await unlisted.locator(".watch-link").waitFor({ timeout: 120_000 });
    await shot(page, "upload-done");
  });

  it("finds the video by a word of its title and opens it", async () => {
    await waitForVideo(site, videoId, isFinal);
    await waitForVideo(site, xssId, isFinal);
    expect((await waitForVideo(site, unlistedId, isFinal)).visibility).toBe("unlisted");

    // Unlisted: not found by its own title; the empty state says what to do.
    await page.goto(`${site}/?q=wombat`);
    await page.locator("#empty").getByText("No videos match “wombat”.").waitFor();
    expect(await page.locator(".card").count()).toBe(0);
    expect(await page.locator("#empty a[href='/upload']").count()).toBe(1);
    await shot(page, "home-empty-search");

    await page.goto(site);
    await page.getByRole("searchbox").pressSequentially("zebrafinch", { delay: 40 });
    const card = page.locator(`.card[data-video-id="${videoId}"]`);
    await card.waitFor();
    expect(await card.locator(".card-title").textContent()).toBe(TITLE);
    expect(await card.locator(".card-title mark").textContent()).toBe("zebrafinch");
    expect(await card.locator(".duration").textContent()).toContain("0:12");
    await expect.poll(() => new URL(page.url()).searchParams.get("q")).toBe("zebrafinch");
    await shot(page, "home-results");
    await card.locator("a.card-link").click();
    await page.waitForURL(`**/watch/${videoId}`);
  });

  it("plays with hls.js, switches quality, and reports time to first frame", async () => {
    await page.waitForFunction(() => !!(window as any).__reelay?.video);
    const playCalledAt = await page.evaluate(() => {
      void (window as any).__reelay.video.play();
      return performance.now();
    });
    await page.waitForFunction(() => (window as any).__reelay.video.currentTime > 2, null, { timeout: 30_000 });
    const ttff = await page.evaluate(() => (window as any).__ttff as { playing?: number; timeupdate?: number });
    console.log(
      `time to first frame: ${Math.round(ttff.playing!)} ms from navigation to 'playing' ` +
        `(first timeupdate > 0 at ${Math.round(ttff.timeupdate!)} ms; ${Math.round(ttff.playing! - playCalledAt)} ms after play())`,
    );
    const state = await page.evaluate(() => {
      const { video, hls, fatalErrors } = (window as any).__reelay;
      return {
        error: video.error,
        fatalErrors,
        levels: hls.levels.map((l: any) => l.height),
        current: hls.currentLevel,
        poster: video.poster,
      };
    });
    expect(state.error).toBeNull();
    expect(state.fatalErrors).toEqual([]);
    expect(state.poster).toContain("poster.jpg");
    expect([...state.levels].sort((a, b) => b - a)).toEqual([720, 480, 360, 240]);

    const target = state.levels.indexOf(state.levels[state.current] === 240 ? 480 : 240);
    const label = `${state.levels[target]}p`;
    await page.getByLabel("Quality").selectOption({ label });
    await page.waitForFunction((t) => (window as any).__reelay.hls.currentLevel === t, target, { timeout: 15_000 });
    const after = await page.evaluate(() => ({
      t: (window as any).__reelay.video.currentTime,
      err: (window as any).__reelay.video.error,
      fatal: (window as any).__reelay.fatalErrors,
    }));
    expect(after.err).toBeNull();
    expect(after.fatal).toEqual([]);
    await shot(page, "watch-playing");

    // Keyboard shortcuts, with focus outside form fields.
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await page.keyboard.press("m");
    expect(await page.evaluate(() => (window as any).__reelay.video.muted)).toBe(true);
    await page.keyboard.press("m");
    await page.keyboard.press("ArrowDown");
    expect(await page.evaluate(() => (window as any).__reelay.video.volume)).toBeCloseTo(0.9);
    await page.keyboard.press(" ");
    expect(await page.evaluate(() => (window as any).__reelay.video.paused)).toBe(true);
  });

  it("pages through results with More", async () => {
    const p = observe(await context.newPage());
    // One video per page, so the two public videos take two pages.
    await p.route("**/api/videos?*", (route) =>
      route.continue({
        url: route
          .request()
          .url()
          .replace(/limit=\d+/, "limit=1"),
      }),
    );
    await p.goto(site);
    await expect.poll(() => p.locator(".card").count()).toBe(1);
    const more = p.getByRole("button", { name: "More videos" });
    await more.click();
    await expect.poll(() => p.locator(".card").count()).toBe(2);
    await expect.poll(() => more.isHidden()).toBe(true);
    // Keyboard users continue from the first new video.
    expect(
      await p.evaluate(() => document.activeElement?.closest(".card") === document.querySelectorAll(".card")[1]),
    ).toBe(true);
    await p.close();
  });

  it("fits a 360 px phone", async () => {
    const phone = await browser.newContext({
      viewport: { width: 360, height: 780 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
    });
    const p = observe(await phone.newPage());
    await p.goto(`${site}/?q=lighthouse`);
    await p.locator(".card").first().waitFor();
    expect(await p.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
    await shot(p, "phone-home");
    await p.goto(`${site}/watch/${videoId}`);
    await p.locator("video").waitFor();
    await p.waitForFunction(() => (document.querySelector("video") as HTMLVideoElement).readyState >= 2);
    expect(await p.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
    await shot(p, "phone-watch");
    const dark = await browser.newContext({ viewport: { width: 1024, height: 760 }, colorScheme: "dark" });
    const d = observe(await dark.newPage());
    await d.goto(site);
    await d.locator(".card").first().waitFor();
    await shot(d, "home-dark");
    await Promise.all([phone.close(), dark.close()]);
  });

  it("keeps an HTML title as text in search results and on the watch page", async () => {
    await page.goto(`${site}/?q=onerror`);
    const card = page.locator(`.card[data-video-id="${xssId}"]`);
    await card.waitFor();
    expect(await card.locator(".card-title").textContent()).toBe(XSS_TITLE);
    expect(await page.locator("img:not(.poster)").count()).toBe(0);
    await shot(page, "home-xss-title");
    await page.goto(`${site}/watch/${xssId}`);
    await expect.poll(() => page.locator("h1").textContent()).toBe(XSS_TITLE);
    expect(await page.locator("img").count()).toBe(0);
    expect(await page.title()).toBe(`${XSS_TITLE} – Reelay`);
    expect(seen.dialogs).toEqual([]);
  });

  it("lets the owner edit and delete the video", async () => {
    await page.goto(`${site}/watch/${videoId}`);
    await page.getByRole("button", { name: "Edit" }).click();
    const title = page.getByLabel("Title", { exact: true });
    expect(await title.inputValue()).toBe(TITLE);
    await shot(page, "watch-edit-form");
    await title.fill(EDITED_TITLE);
    await page.getByRole("button", { name: "Save" }).click();
    await expect.poll(() => page.locator("h1").textContent()).toBe(EDITED_TITLE);
    expect(await page.locator(".edit-form").count()).toBe(0);

    await page.goto(site);
    await page.getByRole("searchbox").fill("quokka");
    await page.getByRole("searchbox").press("Enter");
    const card = page.locator(`.card[data-video-id="${videoId}"]`);
    await card.waitFor();
    expect(await card.locator(".card-title").textContent()).toBe(EDITED_TITLE);
    // Enter made a history entry: Back returns to the unfiltered list, Forward to the search.
    await page.goBack();
    await expect.poll(() => page.getByRole("searchbox").inputValue()).toBe("");
    await expect.poll(() => page.locator(".card").count()).toBe(2);
    await page.goForward();
    await expect.poll(() => page.getByRole("searchbox").inputValue()).toBe("quokka");
    await card.waitFor();

    await card.locator("a.card-link").click();
    await page.waitForURL(`**/watch/${videoId}`);
    await page.getByRole("button", { name: "Delete" }).click();
    await page.waitForURL(`${site}/`);
    expect(seen.dialogs).toEqual([`confirm: Delete “${EDITED_TITLE}”? This cannot be undone.`]);
    expect((await fetch(`${site}/api/videos/${videoId}`)).status).toBe(404);
    expect(await page.evaluate((id) => localStorage.getItem(`reelay:owner:${id}`), videoId)).toBeNull();
    await page.goto(`${site}/watch/${videoId}`);
    await page.getByText("This video does not exist, or it was deleted.").waitFor();
    // Unknown pages get the site's own 404 page.
    const missing = await page.goto(`${site}/no-such-page`);
    expect(missing?.status()).toBe(404);
    await page.getByRole("heading", { name: "There is nothing here" }).waitFor();
    expect(seen.problems).toEqual([]);
  });
});

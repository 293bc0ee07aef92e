// Captions in Debian's Chromium against the real stack (`npm start`): the
// watch page's Captions menu lists the video's tracks, shows the chosen
// one's cues at the times the SRT gave, and remembers the choice; a search
// for a word only the captions say links to that moment, and the link
// starts playback there.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isFinal, makeVideo, uploadFile, waitForVideo } from "../helpers.ts";
import { startStack, type Stack } from "../stack.ts";
import { launchBrowser, shot } from "./helpers.ts";
import { type Observed, observe as observePage } from "./page-probes.ts";

let stack: Stack;
let browser: Browser;
let context: BrowserContext;
let dir: string;
let videoId: string;
const seen: Observed = { dialogs: [], problems: [] };
const observe = (p: Page) => observePage(p, seen);

/** A word no title, tag or description holds: only the captions say it. */
const word = `heron${Math.random()
  .toString(36)
  .replace(/[^a-z]/g, "")
  .slice(0, 6)}`;

const SRT = [
  "1",
  "00:00:01,000 --> 00:00:03,000",
  "Morning on the marsh.",
  "",
  "2",
  "00:00:12,500 --> 00:00:15,000",
  `A grey ${word} takes off.`,
  "",
].join("\n");
const FRENCH = "WEBVTT\n\n00:00:01.000 --> 00:00:03.000\nMatin sur le marais.\n";

/** Seeks the page's video to `t` seconds. */
const seek = (page: Page, t: number) =>
  page.evaluate((to) => {
    (window as any).__reelay.video.currentTime = to;
  }, t);
const play = (page: Page) => page.evaluate(() => void (window as any).__reelay.video.play());
const currentTime = (page: Page): Promise<number> => page.evaluate(() => (window as any).__reelay.video.currentTime);

/** The cues the page's video shows now: the active cues of its showing text tracks. */
const shownCues = (page: Page) =>
  page.evaluate(() => {
    const { video } = (window as unknown as { __reelay: { video: HTMLVideoElement } }).__reelay;
    return Array.from(video.textTracks)
      .filter((t) => t.mode === "showing")
      .flatMap((t) => Array.from(t.activeCues ?? []).map((c) => (c as VTTCue).text));
  });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "reelay-captions-"));
  let path: string;
  [stack, path, browser] = await Promise.all([
    startStack(),
    makeVideo(join(dir, "marsh.mp4"), { size: "320x240", seconds: 20 }),
    launchBrowser(),
  ]);
  const up = await uploadFile(stack.url, path, "Marsh at sunrise");
  videoId = up.videoId;
  await waitForVideo(stack.url, videoId, isFinal, 240_000);
  for (const [lang, body, type] of [
    ["en", SRT, "application/x-subrip"],
    ["fr", FRENCH, "text/vtt"],
  ]) {
    const res = await fetch(`${stack.url}/api/videos/${videoId}/captions/${lang}`, {
      method: "PUT",
      headers: { authorization: `Bearer ${up.uploadToken}`, "content-type": type! },
      body,
    });
    expect(res.status).toBe(201);
  }
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("captions in the browser", () => {
  it("shows the cues of the track chosen in the Captions menu at their times, and remembers the choice", async () => {
    const page = observe(await context.newPage());
    await page.goto(`${stack.url}/watch/${videoId}`);
    const menu = page.getByLabel("Captions", { exact: true });
    await expect
      .poll(() => menu.locator("option").allTextContents(), { timeout: 30_000 })
      .toEqual(["Off", "English", "Français"]);
    expect(await menu.inputValue()).toBe("-1");
    expect(await shownCues(page)).toEqual([]);

    await menu.selectOption({ label: "English" });
    await seek(page, 13);
    await expect.poll(() => shownCues(page), { timeout: 15_000 }).toEqual([`A grey ${word} takes off.`]);
    // Just before the cue starts, and once it ended, nothing of it shows.
    for (const [at, cues] of [
      [12.3, []],
      [2, ["Morning on the marsh."]],
      [15.2, []],
    ] as const) {
      await seek(page, at);
      await expect.poll(() => shownCues(page), { timeout: 10_000 }).toEqual(cues);
    }
    await play(page);
    await seek(page, 12.5);
    await expect.poll(() => shownCues(page), { timeout: 10_000 }).toEqual([`A grey ${word} takes off.`]);
    await shot(page, "watch-captions", false);

    // Another visit, in the same browser, starts with English on.
    await page.reload();
    await expect.poll(() => menu.inputValue(), { timeout: 30_000 }).toBe("0");
    await expect
      .poll(() => page.evaluate(() => (window as any).__reelay.hls?.subtitleTrack), { timeout: 15_000 })
      .toBe(0);
    await menu.selectOption({ label: "Off" });
    await page.reload();
    await expect.poll(() => menu.locator("option").count(), { timeout: 30_000 }).toBe(3);
    expect(await menu.inputValue()).toBe("-1");
    expect(seen.problems).toEqual([]);
    await page.close();
  });

  it("links a search for a word said only in the captions to its moment, and starts playback there", async () => {
    const page = observe(await context.newPage());
    await page.goto(`${stack.url}/?q=${word}`);
    const moment = page.locator(`.card[data-video-id="${videoId}"] .card-moments a`);
    await expect.poll(() => moment.count(), { timeout: 15_000 }).toBe(1);
    expect(await moment.getAttribute("href")).toBe(`/watch/${videoId}?t=12`);
    expect(await moment.locator(".moment-time").textContent()).toBe("0:12");
    expect(await moment.locator("mark").textContent()).toBe(word);
    await shot(page, "search-moment", false);

    await moment.click();
    await page.waitForURL(`**/watch/${videoId}?t=12`);
    await expect.poll(() => page.evaluate(() => !!(window as any).__reelay?.video), { timeout: 30_000 }).toBe(true);
    // Paused at the moment, before anyone pressed play.
    await expect.poll(() => currentTime(page), { timeout: 30_000 }).toBeGreaterThanOrEqual(11.9);
    expect(await currentTime(page)).toBeLessThan(12.6);
    await play(page);
    await expect.poll(() => currentTime(page), { timeout: 15_000 }).toBeGreaterThan(12.6);
    expect(seen.problems).toEqual([]);
    await page.close();
  });
});

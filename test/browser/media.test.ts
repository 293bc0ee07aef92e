// Real-world media in Debian's Chromium against the real stack (`npm start`):
// a file with two audio tracks gets an Audio menu that switches hls.js to the
// other track while the video plays; a file cut short shows the transcoder's
// warning under the player; and an audio file or an image picked on the upload
// page is listed with the reason it is not a video, and nothing is sent.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SOURCE_REASONS } from "../../worker/contracts/vocabulary.ts";
import { makeRealWorld } from "../../transcoder/testing/media.ts";
import { isFinal, makeVideo, uploadFile, waitForVideo } from "../helpers.ts";
import { startStack, type Stack } from "../stack.ts";
import { launchBrowser, shot } from "./helpers.ts";
import { type Observed, observe as observePage } from "./page-probes.ts";

let stack: Stack;
let browser: Browser;
let context: BrowserContext;
let dir: string;
let twoTracksPath: string;
let plainPath: string;
let truncatedPath: string;
const seen: Observed = { dialogs: [], problems: [] };
const observe = (p: Page) => observePage(p, seen);

type Exposed = { video: HTMLVideoElement; hls: { audioTrack: number; audioTracks: { name: string }[] } };
/** What the page's player is doing: the hls.js audio track playing, by name, and the video's clock. */
const playerState = (page: Page) =>
  page.evaluate(() => {
    const { video, hls, fatalErrors } = (window as unknown as { __reelay: Exposed & { fatalErrors: string[] } })
      .__reelay;
    return {
      track: hls.audioTracks[hls.audioTrack]?.name,
      time: video.currentTime,
      error: video.error?.message ?? null,
      fatalErrors,
    };
  });

/** Every request for an audio rendition's segment the page makes, by rendition (`audio_1`). */
function audioSegmentsOf(page: Page): string[] {
  const seen: string[] = [];
  page.on("request", (r) => {
    const match = new URL(r.url()).pathname.match(/\/(audio_\d+)\/[^/]+\.m4s$/);
    if (match) seen.push(match[1]!);
  });
  return seen;
}

/**
 * Opens the watch page's Audio menu, checks it lists both tracks starting on
 * English, plays, and switches to Français: hls.js must follow, fetch the
 * second track's segments and keep playing.
 */
async function switchToFrench(page: Page, audioSegments: string[]): Promise<void> {
  const menu = page.getByLabel("Audio", { exact: true });
  await menu.waitFor();
  expect(await menu.locator("option").allTextContents()).toEqual(["English", "Français"]);
  expect(await menu.evaluate((s: HTMLSelectElement) => s.selectedOptions[0]?.textContent)).toBe("English");

  await page.waitForFunction(() => !!(window as any).__reelay?.hls);
  await page.evaluate(() => void (window as any).__reelay.video.play());
  await page.waitForFunction(() => (window as any).__reelay.video.currentTime > 1, null, { timeout: 30_000 });
  expect((await playerState(page)).track).toBe("English");
  expect(audioSegments).not.toContain("audio_1");

  await menu.selectOption({ label: "Français" });
  await expect.poll(async () => (await playerState(page)).track, { timeout: 15_000 }).toBe("Français");
  await expect.poll(() => audioSegments.includes("audio_1"), { timeout: 15_000 }).toBe(true);
  // Still playing, on the new track.
  const switched = await playerState(page);
  await expect.poll(async () => (await playerState(page)).time, { timeout: 15_000 }).toBeGreaterThan(switched.time + 1);
  const after = await playerState(page);
  expect({ error: after.error, fatalErrors: after.fatalErrors }).toEqual({ error: null, fatalErrors: [] });
  expect(await menu.evaluate((s: HTMLSelectElement) => s.selectedOptions[0]?.textContent)).toBe("Français");
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "reelay-media-"));
  [stack, twoTracksPath, plainPath, truncatedPath, browser] = await Promise.all([
    startStack(),
    // Long enough to keep playing through the switch; MKV keeps the tracks' titles.
    makeVideo(join(dir, "dubbed.mkv"), {
      size: "640x360",
      seconds: 20,
      audioTracks: [
        { language: "eng", title: "English", frequency: 440 },
        { language: "fra", title: "Français", frequency: 880 },
      ],
    }),
    makeVideo(join(dir, "plain.mp4"), { size: "320x240", seconds: 3 }),
    makeRealWorld(join(dir, "cut.mp4"), "cut-faststart"),
    launchBrowser(),
  ]);
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("real-world media in the browser", () => {
  it("lists an audio file and an image with the reason they are not videos, and uploads nothing", async () => {
    const page = observe(await context.newPage());
    const creations: string[] = [];
    page.on("request", (r) => {
      if (r.method() === "POST" && new URL(r.url()).pathname === "/api/uploads") creations.push(r.url());
    });
    await page.goto(`${stack.url}/upload`);
    await page.setInputFiles("#files", [
      { name: "song.mp3", mimeType: "audio/mpeg", buffer: Buffer.from("ID3 not really a song") },
      { name: "photo.png", mimeType: "image/png", buffer: Buffer.from("\x89PNG not really a photo") },
    ]);
    const refusal = page.locator("#form-error");
    await expect
      .poll(() => refusal.locator(".refused-file").allTextContents())
      .toEqual([`song.mp3: ${SOURCE_REASONS.audioOnly}`, `photo.png: ${SOURCE_REASONS.notAccepted}`]);
    await shot(page, "upload-not-a-video");
    await page.getByRole("button", { name: "Upload", exact: true }).click();
    await expect.poll(() => refusal.textContent()).toBe("Choose one or more video files first.");
    expect(await page.locator(".upload-card").count()).toBe(0);

    // Picked with a video, only the video is taken.
    await page.setInputFiles("#files", [
      { name: "song.mp3", mimeType: "audio/mpeg", buffer: Buffer.from("ID3") },
      { name: "plain.mp4", mimeType: "video/mp4", buffer: await readFile(plainPath) },
    ]);
    await expect
      .poll(() => refusal.locator(".refused-file").allTextContents())
      .toEqual([`song.mp3: ${SOURCE_REASONS.audioOnly}`]);
    expect(await page.locator("#selection").textContent()).toMatch(/^plain\.mp4 \(/);
    expect(creations).toEqual([]);
    await page.close();
  });

  it("plays a file with two audio tracks and switches to the second from the Audio menu", async () => {
    const page = observe(await context.newPage());
    await page.goto(`${stack.url}/upload`);
    await page.setInputFiles("#files", twoTracksPath);
    await page.getByRole("button", { name: "Upload", exact: true }).click();
    const card = page.locator("#upload-list .upload-card").first();
    await expect.poll(() => card.getAttribute("data-video-id"), { timeout: 15_000 }).toBeTruthy();
    const id = (await card.getAttribute("data-video-id"))!;

    const ready = await waitForVideo(stack.url, id, isFinal, 240_000);
    expect(ready.audioTracks.map((t) => ({ label: t.label, default: t.default }))).toEqual([
      { label: "English", default: true },
      { label: "Français", default: false },
    ]);

    const audioSegments = audioSegmentsOf(page);
    await page.goto(`${stack.url}/watch/${id}`);
    await switchToFrench(page, audioSegments);
    await shot(page, "watch-audio-menu");
    expect(seen.problems).toEqual([]);
    await page.close();
  });

  it("shows no Audio menu for one track, and the transcoder's warning for a file cut short", async () => {
    // A faststart MP4 cut at 60%: its index promises 6 s, about 3.6 s play.
    const up = await uploadFile(stack.url, truncatedPath, "Cut short");
    const ready = await waitForVideo(stack.url, up.videoId, isFinal, 120_000);
    expect(ready.warnings.map((w) => w.code)).toEqual(["source_truncated"]);
    const page = observe(await context.newPage());
    await page.goto(`${stack.url}/watch/${up.videoId}`);
    await page.locator("video").waitFor();
    const note = page.getByRole("note", { name: "About this video's file" });
    await expect.poll(() => note.textContent()).toBe(ready.warnings[0].message);
    expect(await note.textContent()).toMatch(/^The file looks truncated: 3\.\d s of the 6 s it declares play\.$/);
    expect(await page.getByLabel("Audio", { exact: true }).isVisible()).toBe(false);
    await shot(page, "watch-source-warning");
    expect(seen.problems).toEqual([]);
    await page.close();
  });
});

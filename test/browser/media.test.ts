// Real-world media in Debian's Chromium against the real stack (`npm start`):
// a file with two audio tracks gets an Audio menu that switches hls.js to the
// other track while the video plays; a video the transcoder flagged shows its
// warning under the player; and an audio file or an image picked on the upload
// page is listed with the reason it is not a video, and nothing is sent.
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SOURCE_REASONS } from "../../worker/contracts/vocabulary.ts";
import { upload } from "../../web/src/upload-client.ts";
import { ffmpegPaths } from "../../transcoder/ffmpeg-path.ts";
import type { Video } from "../../worker/contracts/video.ts";
import { isFinal, makeVideo, run, waitForVideo } from "../helpers.ts";
import { startStack, type Stack } from "../stack.ts";
import { launchBrowser, shot } from "./helpers.ts";
import { type Observed, observe as observePage } from "./page-probes.ts";

let stack: Stack;
let browser: Browser;
let context: BrowserContext;
let dir: string;
let twoTracksPath: string;
let plainPath: string;
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

/**
 * HLS as the transcoder publishes a source with two audio tracks (contracts:
 * one `EXT-X-MEDIA TYPE=AUDIO` rendition per track, the video variant in
 * group "audio"), cut by ffmpeg from `source` into `out`.
 */
async function twoTrackHls(source: string, out: string): Promise<void> {
  const renditions = [
    ["360p", "0:v"],
    ["audio_0", "0:a:0"],
    ["audio_1", "0:a:1"],
  ];
  for (const [name, map] of renditions) {
    await mkdir(join(out, name!), { recursive: true });
    await run(ffmpegPaths().ffmpeg, [
      ...["-v", "error", "-i", source, "-map", map!, "-c", "copy", "-f", "hls", "-hls_time", "2"],
      ...["-hls_playlist_type", "vod", "-hls_segment_type", "fmp4", "-hls_fmp4_init_filename", "init.mp4"],
      ...["-hls_segment_filename", join(out, name!, "seg_%05d.m4s"), join(out, name!, "index.m3u8")],
    ]);
  }
  await writeFile(
    join(out, "master.m3u8"),
    [
      "#EXTM3U",
      "#EXT-X-VERSION:7",
      '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="English",LANGUAGE="en",DEFAULT=YES,AUTOSELECT=YES,URI="audio_0/index.m3u8"',
      '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="Français",LANGUAGE="fr",DEFAULT=NO,AUTOSELECT=YES,URI="audio_1/index.m3u8"',
      '#EXT-X-STREAM-INF:BANDWIDTH=900000,RESOLUTION=640x360,CODECS="avc1.64001e,mp4a.40.2",AUDIO="audio"',
      "360p/index.m3u8",
      "",
    ].join("\n"),
  );
}

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
  [stack, twoTracksPath, plainPath, browser] = await Promise.all([
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

  it("switches hls.js to the track chosen in the Audio menu, on HLS published as the contract says", async () => {
    // The page alone: the API answer and the HLS are served by the test, so this holds whatever the transcoder does.
    const hls = join(dir, "hls");
    await twoTrackHls(twoTracksPath, hls);
    const id = "zzzzzzzzzzzzzzzzzzzz";
    const video: Video = {
      id,
      title: "Dubbed",
      description: "",
      tags: [],
      status: "ready",
      visibility: "public",
      durationSec: 20,
      width: 640,
      height: 360,
      frameRate: 30,
      renditions: [{ name: "360p", width: 640, height: 360, bandwidth: 900_000, bytes: 1 }],
      audioTracks: [
        { name: "audio_0", language: "en", label: "English", default: true, channels: 1 },
        { name: "audio_1", language: "fr", label: "Français", default: false, channels: 1 },
      ],
      warnings: [],
      createdAt: new Date().toISOString(),
      playback: { hls: `/videos/${id}/master.m3u8`, poster: null },
    };
    const page = observe(await context.newPage());
    await page.route(`**/api/videos/${id}`, (route) => route.fulfill({ json: video }));
    await page.route(`**/videos/${id}/**`, async (route) => {
      const file = new URL(route.request().url()).pathname.slice(`/videos/${id}/`.length);
      const type = file.endsWith(".m3u8") ? "application/vnd.apple.mpegurl" : "video/mp4";
      await route.fulfill({ body: await readFile(join(hls, file)), contentType: type });
    });
    const audioSegments = audioSegmentsOf(page);
    await page.goto(`${stack.url}/watch/${id}`);
    await switchToFrench(page, audioSegments);
    expect(seen.problems).toEqual([]);
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

  it("shows no Audio menu for one track, and shows the source's warnings under the player", async () => {
    const up = await upload({
      endpoint: stack.url,
      file: new Blob([await readFile(plainPath)]),
      filename: "plain.mp4",
      contentType: "video/mp4",
      title: "Plain clip",
    });
    await waitForVideo(stack.url, up.videoId, isFinal, 120_000);
    const page = observe(await context.newPage());
    // A truncated source needs the transcoder to notice; the page's part is to show what the API says.
    const message = "The file looks truncated: it declares 6 s, but only 3.5 s could be read.";
    await page.route(`**/api/videos/${up.videoId}`, async (route) => {
      const res = await route.fetch();
      const video = await res.json();
      await route.fulfill({ response: res, json: { ...video, warnings: [{ code: "source_truncated", message }] } });
    });
    await page.goto(`${stack.url}/watch/${up.videoId}`);
    await page.locator("video").waitFor();
    const note = page.getByRole("note", { name: "About this video's file" });
    await expect.poll(() => note.textContent()).toBe(message);
    expect(await page.getByLabel("Audio", { exact: true }).isVisible()).toBe(false);
    await shot(page, "watch-source-warning");
    expect(seen.problems).toEqual([]);
    await page.close();
  });
});

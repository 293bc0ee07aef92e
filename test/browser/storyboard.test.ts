// Seek-bar previews in Debian's Chromium against the real stack (`npm start`):
// a video processed for real has a storyboard, and hovering the watch page's
// seek bar shows its tile for the time under the pointer (a sprite sheet
// that loads) with that time; a click seeks there.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Video } from "../../worker/contracts/video.ts";
import { isFinal, makeVideo, uploadFile, waitForVideo } from "../helpers.ts";
import { startStack, type Stack } from "../stack.ts";
import { launchBrowser, shot } from "./helpers.ts";
import { type Observed, observe as observePage } from "./page-probes.ts";

let stack: Stack;
let browser: Browser;
let dir: string;
let video: Video;
const seen: Observed = { dialogs: [], problems: [] };
const observe = (p: Page) => observePage(p, seen);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "reelay-storyboard-"));
  let path: string;
  [stack, path, browser] = await Promise.all([
    startStack(),
    makeVideo(join(dir, "clip.mp4"), { size: "640x360", seconds: 12 }),
    launchBrowser(),
  ]);
  const up = await uploadFile(stack.url, path, "Storyboard");
  video = await waitForVideo(stack.url, up.videoId, isFinal, 180_000);
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("the watch page's seek bar", () => {
  it("shows the storyboard tile and the time under the pointer, and seeks where it is clicked", async () => {
    expect(video.playback.storyboard).toBe(`/videos/${video.id}/storyboard.vtt`);
    const page = observe(await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage());
    const sprites: Array<{ url: string; status: number; type: string | null }> = [];
    page.on("response", (r) => {
      if (/\/frames\/sprite_\d+\.jpg$/.test(new URL(r.url()).pathname))
        sprites.push({ url: r.url(), status: r.status(), type: r.headers()["content-type"] ?? null });
    });
    const storyboard = page.waitForResponse((r) => new URL(r.url()).pathname.endsWith("/storyboard.vtt"));
    await page.goto(`${stack.url}/watch/${video.id}`);
    const slider = page.getByRole("slider", { name: "Seek" });
    await slider.waitFor();
    await page.waitForFunction(() => Number.isFinite((window as any).__reelay?.video?.duration));
    expect((await storyboard).status()).toBe(200);

    // Three quarters along the bar: 9 s of 12, the frame at 8 s or 10 s.
    const box = (await slider.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.75, box.y + box.height / 2);
    const preview = page.locator(".seek-preview");
    await expect.poll(() => preview.isVisible()).toBe(true);
    expect(await preview.locator(".seek-preview-time").textContent()).toBe("0:09");
    const image = preview.locator(".seek-preview-image");
    expect(await image.isVisible()).toBe(true);
    const style = await image.evaluate((el) => {
      const css = getComputedStyle(el);
      return { image: css.backgroundImage, position: css.backgroundPosition, width: css.width, height: css.height };
    });
    expect(style.image).toMatch(
      new RegExp(`^url\\("${stack.url}/videos/${video.id}/j[0-9a-z]+/frames/sprite_\\d{5}\\.jpg"\\)$`),
    );
    expect({ width: style.width, height: style.height }).toEqual({ width: "160px", height: "90px" });
    // The sheet the tile comes from loaded, as a JPEG.
    const sheet = style.image.slice(5, -2);
    await expect.poll(() => sprites.find((s) => s.url === sheet)).toMatchObject({ status: 200, type: "image/jpeg" });
    const loaded = await page.evaluate(async (url) => {
      const img = new Image();
      img.src = url;
      await img.decode();
      return { width: img.naturalWidth, height: img.naturalHeight };
    }, sheet);
    expect(loaded).toEqual({ width: 800, height: 540 });
    await shot(page, "watch-storyboard-preview", false);

    // Leaving hides it; a click seeks to where the pointer was.
    await page.mouse.move(box.x + box.width * 0.25, box.y - 200);
    await expect.poll(() => preview.isVisible()).toBe(false);
    await page.mouse.click(box.x + box.width * 0.5, box.y + box.height / 2);
    await expect.poll(() => page.evaluate(() => Math.round((window as any).__reelay.video.currentTime))).toBe(6);
    expect(await slider.getAttribute("aria-valuenow")).toBe("6");
    expect(seen.problems).toEqual([]);
  });
});

// The embed page in Debian's Chromium against the real stack (`npm start`),
// framed as another site frames it: a page on another origin (another port)
// holds an iframe of `/embed/:id`. A public video plays in it, muted and by
// itself with `?autoplay=1&muted=1`, from `?t=`; a private video plays with a
// playback token and shows a clear message without one; and the watch page's
// Share control copies a link at the current time and the embed code.
import { createServer, type Server } from "node:http";
import { mkdtemp, rm } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, BrowserContext, Frame, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PlaybackToken } from "../../worker/contracts/playback-token.ts";
import { isFinal, makeVideo, uploadFile, waitForVideo } from "../helpers.ts";
import { startStack, type Stack } from "../stack.ts";
import { launchBrowser, shot } from "./helpers.ts";
import { type Observed, observe as observePage } from "./page-probes.ts";

let stack: Stack;
let browser: Browser;
let context: BrowserContext;
let dir: string;
let site: Server;
let siteUrl: string;
let publicId: string;
let privateId: string;
let privateOwner: string;
const seen: Observed = { dialogs: [], problems: [] };
const observe = (p: Page) => observePage(p, seen);

/** Another site: any path answers a page that frames the URL in `?frame=`. */
function startSite(): Promise<Server> {
  const server = createServer((req, res) => {
    const frame = new URL(req.url ?? "/", "http://site").searchParams.get("frame") ?? "";
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(
      `<!doctype html><title>A blog</title><h1>A post with a video</h1>` +
        `<iframe id="player" src="${frame.replace(/"/g, "&quot;")}" width="640" height="360" allow="autoplay; fullscreen" allowfullscreen></iframe>`,
    );
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

async function uploaded(path: string, title: string): Promise<{ videoId: string; uploadToken: string }> {
  const up = await uploadFile(stack.url, path, title);
  await waitForVideo(stack.url, up.videoId, isFinal, 180_000);
  return up;
}

/** The embed frame of the other site's page framing `src`. */
async function framed(page: Page, src: string): Promise<Frame> {
  await page.goto(`${siteUrl}/post?frame=${encodeURIComponent(src)}`);
  const handle = await page.locator("#player").elementHandle();
  const frame = await handle!.contentFrame();
  await frame!.waitForLoadState();
  return frame!;
}

const playing = (frame: Frame) =>
  frame.evaluate(() => {
    const v = document.querySelector("video");
    return v ? { time: v.currentTime, muted: v.muted, paused: v.paused, error: v.error?.message ?? null } : null;
  });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "reelay-embed-"));
  let clip: string;
  [stack, clip, browser, site] = await Promise.all([
    startStack(),
    makeVideo(join(dir, "clip.mp4"), { size: "640x360", seconds: 12 }),
    launchBrowser(),
    startSite(),
  ]);
  siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
  const [pub, priv] = await Promise.all([uploaded(clip, "Open to all"), uploaded(clip, "Members only")]);
  publicId = pub.videoId;
  privateId = priv.videoId;
  privateOwner = priv.uploadToken;
  const res = await fetch(`${stack.url}/api/videos/${privateId}`, {
    method: "PATCH",
    headers: { authorization: `Bearer ${privateOwner}`, "content-type": "application/json" },
    body: JSON.stringify({ visibility: "private" }),
  });
  expect(res.status).toBe(200);
  context = await browser.newContext({ viewport: { width: 900, height: 700 } });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: stack.url });
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  site?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("the embed page", () => {
  it("plays a public video framed by another site, muted and by itself, from ?t=", async () => {
    const page = observe(await context.newPage());
    const frame = await framed(page, `${stack.url}/embed/${publicId}?autoplay=1&muted=1&t=5`);
    await expect.poll(async () => (await playing(frame))?.time ?? 0, { timeout: 30_000 }).toBeGreaterThan(5.5);
    const state = (await playing(frame))!;
    expect(state).toMatchObject({ muted: true, paused: false, error: null });
    // Only the player: no site header, a title linking to the watch page.
    expect(await frame.locator(".site-header").count()).toBe(0);
    expect(await frame.locator("a.embed-title").getAttribute("href")).toBe(`/watch/${publicId}`);
    await shot(page, "embed-framed");
    expect(seen.problems).toEqual([]);
    await page.close();
  });

  it("plays a private video with a playback token, and says why not without one", async () => {
    const res = await fetch(`${stack.url}/api/videos/${privateId}/playback-tokens`, {
      method: "POST",
      headers: { authorization: `Bearer ${privateOwner}`, "content-type": "application/json" },
      body: "{}",
    });
    const minted = (await res.json()) as PlaybackToken;
    const page = observe(await context.newPage());
    const frame = await framed(page, `${new URL(minted.embed, stack.url).href}&autoplay=1&muted=1`);
    await expect.poll(async () => (await playing(frame))?.time ?? 0, { timeout: 30_000 }).toBeGreaterThan(1);

    const refused = await framed(page, `${stack.url}/embed/${privateId}`);
    const alert = refused.getByRole("alert");
    await expect
      .poll(() => alert.textContent())
      .toBe("This video is private. It plays only from a link that includes a playback token.");
    expect(await refused.locator("video").count()).toBe(0);
    await shot(page, "embed-private-refused");
    expect(seen.problems).toEqual([]);
    await page.close();
  });

  it("cannot be framed other than the embed page: the watch page refuses to load in a frame", async () => {
    const page = await context.newPage();
    const frame = await framed(page, `${stack.url}/watch/${publicId}`);
    // Chromium blocks the framed document (frame-ancestors 'none'): nothing of the watch page runs in it.
    await new Promise((r) => setTimeout(r, 1000));
    expect(await frame.locator("#stage").count()).toBe(0);
    await page.close();
  });
});

describe("the watch page's Share control", () => {
  it("copies the link at the current time and the embed code", async () => {
    const page = observe(await context.newPage());
    await page.goto(`${stack.url}/watch/${publicId}?t=7`);
    await expect
      .poll(() => page.evaluate(() => (window as any).__reelay?.video.currentTime ?? 0), { timeout: 30_000 })
      .toBeGreaterThanOrEqual(6.9);
    await page.getByRole("button", { name: "Share" }).click();
    await page.getByRole("button", { name: /^Copy link at / }).click();
    const atTime = await page.evaluate(() => navigator.clipboard.readText());
    expect(atTime).toMatch(new RegExp(`^${stack.url}/watch/${publicId}\\?t=[67]$`));
    await page.getByRole("button", { name: "Copy embed code" }).click();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(
      `<iframe src="${stack.url}/embed/${publicId}" width="640" height="360" title="Open to all" frameborder="0" allow="autoplay; fullscreen; picture-in-picture" allowfullscreen></iframe>`,
    );
    await shot(page, "watch-share");
    expect(seen.problems).toEqual([]);
    await page.close();
  });
});

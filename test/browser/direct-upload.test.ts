// A direct creator upload in Debian's Chromium against the real stack: the
// uploader mints a link (`POST /api/direct-uploads`), a person with no
// credential opens /upload?direct=<capability>, picks one video, and it
// uploads and processes under the link's video id with the creator's title.
// The same link a second time, a file over the link's size, and a page on
// another origin than the link allows are refused with a message in the page.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CreateDirectUpload, DirectUploadCreatedSchema } from "../../worker/contracts/upload.ts";
import { makeVideo, sha256File, sourceSha256, waitForVideo } from "../helpers.ts";
import { startStack, type Stack } from "../stack.ts";
import { launchBrowser, shot } from "./helpers.ts";
import { observe as observePage, type Observed } from "./page-probes.ts";

let stack: Stack;
let browser: Browser;
let dir: string;
let clip: string;
const seen: Observed = { dialogs: [], problems: [] };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "reelay-browser-direct-"));
  [stack, clip, browser] = await Promise.all([
    startStack(),
    makeVideo(join(dir, "rehearsal_take_2.mp4"), { size: "320x240", seconds: 2 }),
    launchBrowser(),
  ]);
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A direct upload link, as the uploader's own server would mint it: the capability is its `direct`. */
async function mintLink(body: CreateDirectUpload = {}) {
  const res = await fetch(`${stack.url}/api/direct-uploads`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(201);
  const created = DirectUploadCreatedSchema.parse(await res.json());
  const capability = new URL(created.uploadUrl).searchParams.get("direct")!;
  expect(capability).toMatch(new RegExp(`^${created.videoId}\\.`));
  return { ...created, page: `${stack.url}/upload?direct=${encodeURIComponent(capability)}` };
}

/** A fresh browser (no stored uploads, no owner tokens), as the person the link was sent to. */
async function freshPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  return observePage(await context.newPage(), seen);
}

/** Picks `path` on the page and presses Upload; returns the card it makes. */
async function uploadOn(page: Page, path: string) {
  await page.setInputFiles("#files", path);
  await page.getByRole("button", { name: "Upload", exact: true }).click();
  return page.locator("#upload-list .upload-card").first();
}

describe("a direct upload link in the browser", () => {
  it("uploads one video through /upload?direct= without a credential, under the link's video", async () => {
    const link = await mintLink({ title: "Rehearsal, as the producer named it", tags: ["direct"] });
    const page = await freshPage();
    const creations: { url: string; authorization?: string }[] = [];
    page.on("request", (r) => {
      if (r.method() === "POST" && new URL(r.url()).pathname === "/api/uploads")
        creations.push({ url: r.url(), authorization: r.headers().authorization });
    });
    await page.goto(link.page);

    // The page says what the link allows and takes a single file.
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("Upload a video");
    expect(await page.locator("#direct-note").isVisible()).toBe(true);
    expect(await page.locator("#direct-note").textContent()).toContain("one video, once");
    expect(await page.locator("#files").getAttribute("multiple")).toBeNull();
    await shot(page, "direct-upload-link");

    const card = await uploadOn(page, clip);
    await expect.poll(() => card.getAttribute("data-state"), { timeout: 60_000 }).toMatch(/^(processing|ready)$/);
    expect(await card.getAttribute("data-video-id")).toBe(link.videoId);
    // One creation, by the link alone.
    expect(creations).toEqual([{ url: new URL(link.uploadUrl).href, authorization: undefined }]);
    // The link is spent: no other file can be picked.
    expect(await page.locator("#files").isDisabled()).toBe(true);
    expect(await page.getByRole("button", { name: "Upload", exact: true }).isDisabled()).toBe(true);

    const video = await waitForVideo(stack.url, link.videoId, (v) => v.status === "processing" || v.status === "ready");
    expect(video).toMatchObject({ title: "Rehearsal, as the producer named it", tags: ["direct"] });
    const token = await page.evaluate((id) => localStorage.getItem(`reelay:owner:${id}`), link.videoId);
    expect(await sourceSha256(stack.url, link.videoId, token!)).toBe(await sha256File(clip));
    await card.locator(".watch-link").waitFor({ timeout: 120_000 });
    await shot(page, "direct-upload-done");

    // The same link again, in another browser: refused, and the page says why.
    const again = await freshPage();
    await again.goto(link.page);
    const refused = await uploadOn(again, clip);
    const alert = refused.getByRole("alert");
    await alert.waitFor();
    expect(await alert.textContent()).toBe(
      "This upload link was already used for a video: it works only once. Ask whoever sent it for a new link to upload another.",
    );
    expect(await refused.getAttribute("data-state")).toBe("failed");
    expect(await refused.getAttribute("data-video-id")).toBeNull();
    expect(await refused.getByRole("button").count()).toBe(0);
    expect(await again.locator("#files").isDisabled()).toBe(true);
    await shot(again, "direct-upload-used");
  });

  it("refuses a file over the link's size, and lets a smaller one be chosen", async () => {
    const link = await mintLink({ maxSizeBytes: 1000 });
    const page = await freshPage();
    await page.goto(link.page);
    const card = await uploadOn(page, clip);
    const alert = card.getByRole("alert");
    await alert.waitFor();
    expect(await alert.textContent()).toBe(
      "This file is too large for this upload link, which takes files of up to 1.0 kB. Choose a smaller file.",
    );
    expect(await page.locator("#files").isDisabled()).toBe(false);
    expect((await fetch(`${stack.url}/api/videos/${link.videoId}`)).status).toBe(404);
    await shot(page, "direct-upload-too-large");
  });

  it("says so when the link is opened on another site than it allows", async () => {
    const link = await mintLink({ allowedOrigin: "https://studio.example" });
    const page = await freshPage();
    await page.goto(link.page);
    const alert = (await uploadOn(page, clip)).getByRole("alert");
    await alert.waitFor();
    expect(await alert.textContent()).toBe(
      "This upload link works only on the site it was made for. This direct upload link may be used only from https://studio.example.",
    );
    expect(seen).toEqual({ dialogs: [], problems: [] });
  });
});

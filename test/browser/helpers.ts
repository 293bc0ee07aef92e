/**
 * Shared by the browser tests and the first-frame benchmark: Debian's
 * Chromium through playwright-core, and screenshots saved under
 * test/artifacts/screenshots for people (and reviewers) to look at.
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { root } from "../stack.ts";

export const screenshotDir = join(root, "test/artifacts/screenshots");

/** How Chromium runs headless here: no sandbox (root in CI), no GPU, no traffic of its own. */
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  // Playing without a click, as a person who pressed play would.
  "--autoplay-policy=no-user-gesture-required",
];

/** Debian's Chromium, or the one at CHROMIUM_PATH. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", args: CHROMIUM_ARGS });
}

export async function shot(page: Page, name: string, fullPage = true): Promise<void> {
  await mkdir(screenshotDir, { recursive: true });
  await page.screenshot({ path: join(screenshotDir, `${name}.png`), fullPage });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * What the browser tests watch inside pages: dialogs, uncaught errors and
 * CSP violations on every page; the upload bar's values, recorded in the
 * page itself so the test's own latency cannot hide a step; and a gate on
 * chunk uploads, so the test decides when each chunk may reach the server.
 */
import type { BrowserContext, Dialog, Page, Route } from "playwright-core";
import { sleep } from "./helpers.ts";

export type Observed = {
  /** Every dialog opened; only the delete confirmation is accepted. */
  dialogs: string[];
  /** Uncaught exceptions and Content-Security-Policy violations. */
  problems: string[];
};

export function observe(p: Page, sink: Observed): Page {
  p.on("dialog", (d: Dialog) => {
    sink.dialogs.push(`${d.type()}: ${d.message()}`);
    if (d.type() === "confirm" && d.message().startsWith("Delete")) void d.accept();
    else void d.dismiss();
  });
  p.on("pageerror", (err) => sink.problems.push(`page error: ${err.message}`));
  p.on("console", (m) => {
    if (m.type() === "error" && /Content[- ]Security[- ]Policy/i.test(m.text())) sink.problems.push(`CSP: ${m.text()}`);
  });
  return p;
}

/** Records when the first frame plays, in ms from navigation start (`window.__ttff`). */
export async function measureFirstFrame(context: BrowserContext): Promise<void> {
  await context.addInitScript(() => {
    const w = window as unknown as { __ttff: Record<string, number> };
    w.__ttff = {};
    document.addEventListener("playing", () => (w.__ttff.playing ??= performance.now()), true);
    document.addEventListener("timeupdate", (e) => {
      if ((e.target as HTMLVideoElement).currentTime > 0) w.__ttff.timeupdate ??= performance.now();
    }, true);
  });
}

/** Unfinished uploads the upload page remembers in IndexedDB. */
export function storedUploads(page: Page): Promise<number> {
  return page.evaluate(() => new Promise<number>((resolve, reject) => {
    const open = indexedDB.open("reelay");
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const count = open.result.transaction("uploads").objectStore("uploads").count();
      count.onsuccess = () => resolve(count.result);
    };
  }));
}

const BAR = ".upload-card progress";

/** Starts recording every value the first upload bar takes (read back with `recordedProgress`). */
export async function recordProgress(page: Page): Promise<void> {
  await page.evaluate((selector) => {
    const seen: number[] = ((window as any).__progressSeen = []);
    setInterval(() => {
      const bar = document.querySelector<HTMLProgressElement>(selector);
      if (bar && seen.at(-1) !== bar.value) seen.push(bar.value);
    }, 20);
  }, BAR);
}

export const recordedProgress = (page: Page) => page.evaluate(() => (window as any).__progressSeen as number[]);

export async function waitForProgress(page: Page, atLeast: number, timeoutMs = 30_000): Promise<void> {
  await page.waitForFunction(
    ([selector, min]) => ((document.querySelector(selector as string) as HTMLProgressElement | null)?.value ?? 0) >= (min as number),
    [BAR, atLeast] as const,
    { timeout: timeoutMs, polling: 50 },
  );
}

export type ChunkGate = {
  /** Chunk numbers that reached the server since the last `clearSent`. */
  sent: number[];
  clearSent(): void;
  /** Let these chunks through (held requests for them go now). */
  release(...chunks: number[]): void;
  /** Drop held requests (their page went away). */
  dropHeld(): void;
};

const chunkOf = (url: string) => Number(url.split("/").pop());

/** Chunk PUTs pass only once allowed, chunk n after n × `stepMs`, so progress visibly moves step by step. */
export async function gateChunks(context: BrowserContext, allowed: number[], stepMs: number): Promise<ChunkGate> {
  const open = new Set(allowed);
  const held: Route[] = [];
  const sent: number[] = [];
  await context.route("**/api/uploads/*/chunks/*", async (route) => {
    const n = chunkOf(route.request().url());
    if (!open.has(n)) return void held.push(route);
    await sleep(stepMs * n);
    sent.push(n);
    await route.continue().catch(() => {});
  });
  return {
    sent,
    clearSent: () => void sent.splice(0),
    release(...chunks) {
      chunks.forEach((n) => open.add(n));
      for (const route of held.splice(0)) {
        const n = chunkOf(route.request().url());
        if (!open.has(n)) held.push(route);
        else void sleep(100).then(() => {
          sent.push(n);
          return route.continue().catch(() => {});
        });
      }
    },
    dropHeld: () => held.splice(0).forEach((route) => void route.abort().catch(() => {})),
  };
}

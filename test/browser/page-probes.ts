/**
 * What the browser tests watch inside pages: dialogs, uncaught errors and
 * CSP violations on every page; the upload bar's values, recorded in the
 * page itself so the test's own latency cannot hide a step; and a gate on
 * chunk uploads, so the test decides when each chunk may reach the server.
 */
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from "node:http";
import type { BrowserContext, Dialog, Page } from "playwright-core";
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
    document.addEventListener(
      "timeupdate",
      (e) => {
        if ((e.target as HTMLVideoElement).currentTime > 0) w.__ttff.timeupdate ??= performance.now();
      },
      true,
    );
  });
}

/** Unfinished uploads the upload page remembers in IndexedDB. */
export function storedUploads(page: Page): Promise<number> {
  return page.evaluate(
    () =>
      new Promise<number>((resolve, reject) => {
        const open = indexedDB.open("reelay");
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const count = open.result.transaction("uploads").objectStore("uploads").count();
          count.onsuccess = () => resolve(count.result);
        };
      }),
  );
}

const BAR = ".upload-card progress";

/** Starts recording every value the first upload bar takes (read back with `recordedProgress`). */
export async function recordProgress(page: Page): Promise<void> {
  await page.evaluate((selector) => {
    const seen: number[] = [];
    (window as any).__progressSeen = seen;
    const sample = () => {
      const bar = document.querySelector<HTMLProgressElement>(selector);
      if (bar && seen.at(-1) !== bar.value) seen.push(bar.value);
    };
    // Every change of the bar's value (the property reflects to the attribute) is a mutation record:
    // each is seen however late the page's timers run on a loaded machine.
    new MutationObserver((records) => {
      for (const r of records) if ((r.target as Element).matches?.(selector) || r.type === "childList") sample();
    }).observe(document.documentElement, {
      subtree: true,
      childList: true,
      attributes: true,
      attributeFilter: ["value"],
    });
    sample();
  }, BAR);
}

export const recordedProgress = (page: Page) => page.evaluate(() => (window as any).__progressSeen as number[]);

export async function waitForProgress(page: Page, atLeast: number, timeoutMs = 30_000): Promise<void> {
  await page.waitForFunction(
    ([selector, min]) =>
      ((document.querySelector(selector as string) as HTMLProgressElement | null)?.value ?? 0) >= (min as number),
    [BAR, atLeast] as const,
    { timeout: timeoutMs, polling: 50 },
  );
}

export type ChunkGate = {
  /** The gate's origin: pages and API calls go through it to reach the stack. */
  url: string;
  /** Chunk numbers that reached the server since the last `clearSent`. */
  sent: number[];
  clearSent(): void;
  /** Let these chunks through (held requests for them go now). */
  release(...chunks: number[]): void;
  /** Let these chunks through from now on, without sending what is held. */
  allow(...chunks: number[]): void;
  /** Cut the held requests' connections (their page went away, or the network did). */
  dropHeld(): void;
  /** Resolves once requests for all these chunks are being held. */
  whenHeld(...chunks: number[]): Promise<void>;
  /** Let every request through at once, from now on. */
  openAll(): void;
  close(): Promise<void>;
};

const chunkOf = (url: string) => {
  const m = /\/api\/uploads\/[^/]+\/chunks\/(\d+)$/.exec(url);
  return m ? Number(m[1]) : undefined;
};

/**
 * A plain HTTP hop in front of the stack that decides when each chunk PUT may
 * reach the server: only allowed chunks pass, the first allowed ones chunk n
 * after n × `stepMs`, so progress visibly moves step by step; the rest wait
 * until released or cut.
 * It is a real server rather than Playwright's request interception, which in
 * Chromium 156 delivered a continued chunk's response only when the next
 * intercepted request arrived.
 */
export async function gateChunks(target: string, allowed: number[], stepMs: number): Promise<ChunkGate> {
  const upstream = new URL(target);
  const open = new Set(allowed);
  const stepped = new Set(allowed);
  let everything = false;
  const held: { n: number; req: IncomingMessage; res: ServerResponse }[] = [];
  const sent: number[] = [];
  const forward = (req: IncomingMessage, res: ServerResponse, n?: number) => {
    if (n !== undefined) sent.push(n);
    const up = request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        // A fresh connection for every request: Chromium silently resends a request
        // whose reused keep-alive connection is cut, which would hide a dropped chunk.
        res.writeHead(answer.statusCode!, { ...answer.headers, connection: "close" });
        answer.pipe(res);
      },
    );
    up.on("error", () => res.destroy());
    req.pipe(up);
  };
  const server: Server = createServer((req, res) => {
    const n = req.method === "PUT" ? chunkOf(req.url ?? "") : undefined;
    if (n === undefined || everything) return forward(req, res, n);
    if (!open.has(n)) return void held.push({ n, req, res });
    void sleep(stepped.has(n) ? stepMs * n : 0).then(() => forward(req, res, n));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    sent,
    clearSent: () => void sent.splice(0),
    allow: (...chunks) => {
      for (const n of chunks) open.add(n);
    },
    release(...chunks) {
      for (const n of chunks) open.add(n);
      for (const h of held.splice(0)) {
        if (!open.has(h.n)) held.push(h);
        else void sleep(100).then(() => forward(h.req, h.res, h.n));
      }
    },
    dropHeld: () => {
      for (const h of held.splice(0)) h.res.destroy();
    },
    async whenHeld(...chunks) {
      while (!chunks.every((n) => held.some((h) => h.n === n))) await sleep(50);
    },
    openAll: () => {
      everything = true;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

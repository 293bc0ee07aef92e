/**
 * Time to first frame in headless Chromium, a fresh context (empty cache) for
 * every load, all variants interleaved in the same run:
 * - the real /watch/:id page (hls.js as Reelay configures it, Auto start),
 * - hls.js (the same light build) on a bare page, started on the top rung
 *   (1080p, the height the plain page plays), so the rung is not what differs,
 * - the baseline: a bare `<video src>` of the source MP4, served by a plain
 *   node:http server with Range support, no worker and no interception.
 * Every sample records the height of the first frame shown and the hls.js
 * level it came from, so it is visible which rung each variant started on.
 */
import { createReadStream } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import type { Browser, Page } from "playwright-core";
import { launchBrowser } from "../test/browser/helpers.ts";
import { isFinal, waitForVideo } from "../test/helpers.ts";
import { root, startStack } from "../test/stack.ts";
import { upload } from "../web/src/upload-client.ts";
import { median } from "./lib.ts";
import { makeSource } from "./transcode.ts";

const VARIANTS = ["watch", "hlsTop", "plain"] as const;
type Variant = (typeof VARIANTS)[number];

export type FirstFrameSample = {
  ms: number;
  /** videoHeight when the first frame was shown. */
  height: number;
  /** The hls.js level playing at that moment (none for the plain page). */
  level: { height: number; bitrate: number; url: string } | null;
};

export type FirstFrameBench = {
  runs: number;
  sourceSec: number;
  sourceBytes: number;
  samples: Record<Variant, FirstFrameSample[]>;
  /** One load of each variant right after Chromium starts, not counted: the first page pays for the browser's own start-up. */
  warmup: Record<Variant, FirstFrameSample[]>;
};

/** Milliseconds from navigation start until the first frame with currentTime > 0, and what was shown. */
async function firstFrame(page: Page): Promise<FirstFrameSample> {
  return page.evaluate(async () => {
    type Level = { height: number; bitrate: number; url: string[] | string };
    type Exposed = { hls?: { levels: Level[]; currentLevel: number } | null };
    const deadline = performance.now() + 60_000;
    let video = document.querySelector("video");
    while (!video && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
      video = document.querySelector("video");
    }
    const v = video!;
    v.muted = true;
    void v.play().catch(() => {});
    await new Promise<void>((resolve, reject) => {
      const check = () =>
        v.currentTime > 0
          ? resolve()
          : performance.now() > deadline
            ? reject(new Error("no frame in 60 s"))
            : setTimeout(check, 5);
      check();
    });
    const ms = performance.now();
    const hls = (window as unknown as { __reelay?: Exposed }).__reelay?.hls;
    const l = hls?.levels[hls.currentLevel];
    const url = l ? (Array.isArray(l.url) ? l.url[0] : l.url) : "";
    return {
      ms,
      height: v.videoHeight,
      level: l ? { height: l.height, bitrate: l.bitrate, url: url.split("/").slice(-2).join("/") } : null,
    };
  });
}

/** The bare pages and the source MP4, from node:http: Range requests answered as any static file server would. */
async function plainServer(source: string, master: string): Promise<{ server: Server; url: string }> {
  const hlsJs = await readFile(join(root, "node_modules/hls.js/dist/hls.light.min.js"));
  const plainPage = `<!doctype html><video src="/source.mp4" muted playsinline preload="auto"></video>`;
  // Same hls.js settings as the watch page (web/src/watch/player.ts), except: start on the top level, no cap to the player size.
  const hlsPage = `<!doctype html><video muted playsinline preload="auto"></video><script src="/hls.light.min.js"></script><script>
const video = document.querySelector("video");
const hls = new Hls({ autoStartLoad: false, abrEwmaDefaultEstimate: 1500000 });
window.__reelay = { video, hls };
hls.on(Hls.Events.MANIFEST_PARSED, () => {
  let top = 0;
  hls.levels.forEach((l, i) => { const t = hls.levels[top]; if (l.height > t.height || (l.height === t.height && l.bitrate > t.bitrate)) top = i; });
  hls.startLevel = top;
  hls.startLoad(-1);
});
hls.loadSource(${JSON.stringify(master)});
hls.attachMedia(video);
</script>`;
  const { size } = await stat(source);
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    const send = (type: string, body: string | Buffer) =>
      res
        .writeHead(200, {
          "Content-Type": type,
          "Content-Length": Buffer.byteLength(body),
          "Cache-Control": "no-store",
        })
        .end(body);
    if (path === "/plain") return send("text/html", plainPage);
    if (path === "/hls-top") return send("text/html", hlsPage);
    if (path === "/hls.light.min.js") return send("text/javascript", hlsJs);
    if (path !== "/source.mp4") return res.writeHead(404).end();
    let start = 0;
    let end = size - 1;
    const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? "");
    if (range && (range[1] || range[2])) {
      if (range[1]) {
        start = Number(range[1]);
        if (range[2]) end = Math.min(Number(range[2]), size - 1);
      } else {
        start = Math.max(0, size - Number(range[2]));
      }
      if (start > end) return res.writeHead(416, { "Content-Range": `bytes */${size}` }).end();
    }
    res.writeHead(range ? 206 : 200, {
      "Content-Type": "video/mp4",
      "Accept-Ranges": "bytes",
      "Content-Length": end - start + 1,
      "Cache-Control": "no-store",
      ...(range ? { "Content-Range": `bytes ${start}-${end}/${size}` } : {}),
    });
    if (req.method === "HEAD") return res.end();
    // The player drops connections it no longer needs: not an error.
    pipeline(createReadStream(source, { start, end }), res).catch(() => {});
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}` };
}

export async function benchFirstFrame(runs = 5): Promise<FirstFrameBench> {
  // 30 s is plenty to reach a first frame and keeps the section short.
  const sourceSec = 30;
  const source = await makeSource("h264", sourceSec);
  const stack = await startStack();
  let browser: Browser | undefined;
  let plain: { server: Server; url: string } | undefined;
  const result: FirstFrameBench = {
    runs,
    sourceSec,
    sourceBytes: (await stat(source)).size,
    samples: { watch: [], hlsTop: [], plain: [] },
    warmup: { watch: [], hlsTop: [], plain: [] },
  };
  try {
    const up = await upload({
      endpoint: stack.url,
      file: new Blob([await readFile(source)]),
      filename: "ttff.mp4",
      contentType: "video/mp4",
      title: "First frame",
    });
    await waitForVideo(stack.url, up.videoId, isFinal, 900_000);
    plain = await plainServer(source, `${stack.url}/videos/${up.videoId}/master.m3u8`);
    const urls: Record<Variant, string> = {
      watch: `${stack.url}/watch/${up.videoId}`,
      hlsTop: `${plain.url}/hls-top`,
      plain: `${plain.url}/plain`,
    };
    // The browser tests' Chromium, with their flags (autoplay without a click among them).
    browser = await launchBrowser();
    for (let i = -1; i < runs; i++) {
      // Rotate the order, so no variant always goes first (or last) after a quiet moment.
      for (const kind of VARIANTS.map((_, k) => VARIANTS[(k + i + 1) % VARIANTS.length])) {
        const context = await browser.newContext();
        const page = await context.newPage();
        await page.goto(urls[kind]);
        (i < 0 ? result.warmup : result.samples)[kind].push(await firstFrame(page));
        await context.close();
      }
    }
  } finally {
    await browser?.close();
    plain?.server.close();
    await stack.stop();
  }
  return result;
}

export function firstFrameRows(r: FirstFrameBench): (string | number)[][] {
  const ms = (xs: FirstFrameSample[]) => xs.map((s) => s.ms);
  const spread = (xs: FirstFrameSample[]) => `${Math.min(...ms(xs)).toFixed(0)}–${Math.max(...ms(xs)).toFixed(0)} ms`;
  /** "480p", or "480p/720p" when runs started on different rungs. */
  const rungs = (xs: FirstFrameSample[]) => [...new Set(xs.map((s) => `${s.height}p`))].join("/");
  const p = median(ms(r.samples.plain));
  const base = `plain \`<video src>\` of the source MP4 (${rungs(r.samples.plain)}, node:http): ${p.toFixed(0)} ms`;
  const row = (what: string, xs: FirstFrameSample[]) => {
    const m = median(ms(xs));
    return [
      what.replace("RUNG", rungs(xs)),
      `${m.toFixed(0)} ms`,
      base,
      (m / p).toFixed(2),
      `${spread(xs)} / ${spread(r.samples.plain)}, n=${r.runs}, fresh context each`,
    ];
  };
  return [
    row(`time to first frame, /watch/:id (hls.js Auto, first frame RUNG; ${r.sourceSec} s 1080p)`, r.samples.watch),
    row(`time to first frame, hls.js started on the top rung (first frame RUNG; bare page)`, r.samples.hlsTop),
  ];
}

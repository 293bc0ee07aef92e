/**
 * Upload throughput and the Worker's memory while a large file goes up:
 * Reelay (real local stack, the upload client, 4 chunks in flight) beside
 * (a) the machine's practical limit, `curl -T` of the same file to a minimal
 * Node HTTP server that writes to disk, and (b) the standard resumable-upload
 * peer, `@tus/server` (FileStore) with `tus-js-client`, in the same run.
 */
import { spawn } from "node:child_process";
import { createReadStream, createWriteStream } from "node:fs";
import { FileStore } from "@tus/file-store";
import { Server as TusServer } from "@tus/server";
import * as tus from "tus-js-client";
import { mkdir, open, rm, stat } from "node:fs/promises";
import { createServer } from "node:http";
import { randomFillSync } from "node:crypto";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { openFile } from "../web/cli/file-source.ts";
import { type UploadProgress, upload } from "../web/src/upload-client.ts";
import { startStack, root } from "../test/stack.ts";
import { descendants, MB, median, memory, MiB } from "./lib.ts";

export type UploadBench = {
  bytes: number;
  runs: number;
  curlMBps: number[];
  tusMBps: number[];
  /** Reelay's own tus endpoint, with the same client and PATCH size as the @tus/server peer. */
  reelayTusMBps?: number[];
  /** Reelay's own API with one chunk in flight, as tus sends one PATCH at a time: what the tus path adds. */
  reelayOneMBps?: number[];
  /** workerd's peak RSS while Reelay took the file by tus. */
  workerdTusPeakRss?: number;
  reelayMBps: number[];
  workerdIdleRss: number;
  workerdPeakRss: number;
  rssSamples: { fraction: number; rss: number }[];
};

const tmp = join(root, "bench/tmp");

export async function makeFile(bytes: number): Promise<string> {
  await mkdir(tmp, { recursive: true });
  const path = join(tmp, `random-${bytes}.bin`);
  if ((await stat(path).catch(() => null))?.size === bytes) return path;
  const fh = await open(path, "w");
  const block = Buffer.alloc(16 * MiB);
  for (let written = 0; written < bytes; written += block.length) {
    randomFillSync(block);
    await fh.write(block, 0, Math.min(block.length, bytes - written));
  }
  await fh.close();
  return path;
}

/** `curl -T` to a Node server that writes the body to disk: the loopback-and-disk ceiling. */
async function curlBaseline(path: string, bytes: number): Promise<number> {
  const out = join(tmp, "curl-sink.bin");
  const server = createServer(async (req, res) => {
    await pipeline(req, createWriteStream(out));
    res.end("ok");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  const started = performance.now();
  // Asynchronous: the server runs in this very process.
  const code = await new Promise<number | null>((resolve) =>
    spawn("curl", ["-s", "-o", "/dev/null", "-T", path, `http://127.0.0.1:${port}/`], { stdio: "ignore" }).on(
      "exit",
      resolve,
    ),
  );
  const seconds = (performance.now() - started) / 1000;
  server.close();
  await rm(out, { force: true });
  if (code !== 0) throw new Error(`curl failed with exit code ${code}`);
  return bytes / MB / seconds;
}

/** tus: the same file with tus-js-client (16 MiB PATCHes) to @tus/server storing it with FileStore. */
async function tusPeer(path: string, bytes: number): Promise<number> {
  const directory = join(tmp, "tus-store");
  await rm(directory, { recursive: true, force: true });
  const tusServer = new TusServer({ path: "/files", datastore: new FileStore({ directory }) });
  const server = createServer((req, res) => void tusServer.handle(req, res));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  const mbps = await tusUpload(`http://127.0.0.1:${port}/files`, path, bytes);
  server.close();
  await rm(directory, { recursive: true, force: true });
  return mbps;
}

/** MB/s of the file sent with tus-js-client in 16 MiB PATCHes, the same for every tus server timed. */
async function tusUpload(
  endpoint: string,
  path: string,
  bytes: number,
  metadata?: Record<string, string>,
): Promise<number> {
  const started = performance.now();
  await new Promise<void>((resolve, reject) => {
    new tus.Upload(createReadStream(path), {
      endpoint,
      uploadSize: bytes,
      chunkSize: 16 * MiB,
      ...(metadata ? { metadata } : {}),
      onError: reject,
      onSuccess: () => resolve(),
    }).start();
  });
  return bytes / MB / ((performance.now() - started) / 1000);
}

/** MB/s of the file sent with our own upload client, `concurrency` chunks in flight. */
async function reelayUpload(
  url: string,
  path: string,
  bytes: number,
  concurrency: number,
  onProgress?: (fraction: number) => void,
): Promise<number> {
  const started = performance.now();
  await upload({
    endpoint: url,
    file: await openFile(path),
    filename: "bench.mp4",
    contentType: "video/mp4",
    concurrency,
    ...(onProgress ? { onProgress: (p: UploadProgress) => onProgress(p.uploadedBytes / p.totalBytes) } : {}),
  });
  return bytes / MB / ((performance.now() - started) / 1000);
}

export async function benchUpload(bytes = 2 * 1024 * MiB, runs = 3): Promise<UploadBench> {
  const path = await makeFile(bytes);
  const result: UploadBench = {
    bytes,
    runs,
    curlMBps: [],
    tusMBps: [],
    reelayMBps: [],
    reelayTusMBps: [],
    reelayOneMBps: [],
    workerdTusPeakRss: 0,
    workerdIdleRss: 0,
    workerdPeakRss: 0,
    rssSamples: [],
  };
  const stack = await startStack();
  try {
    const workerd = descendants(stack.process.pid!, "workerd");
    const rss = () => workerd.reduce((sum, pid) => sum + memory(pid), 0);
    result.workerdIdleRss = rss();
    for (let run = 0; run < runs; run++) {
      result.curlMBps.push(await curlBaseline(path, bytes));
      result.tusMBps.push(await tusPeer(path, bytes));
      let fraction = 0;
      const sampler = setInterval(() => {
        const now = rss();
        result.workerdPeakRss = Math.max(result.workerdPeakRss, now);
        if (run === 0) result.rssSamples.push({ fraction, rss: now });
      }, 200);
      result.reelayMBps.push(await reelayUpload(stack.url, path, bytes, 4, (f) => (fraction = f)));
      clearInterval(sampler);
      const tusSampler = setInterval(() => {
        result.workerdTusPeakRss = Math.max(result.workerdTusPeakRss ?? 0, rss());
      }, 200);
      // Reelay's own tus endpoint, with the same client and PATCH size as the @tus/server peer.
      const metadata = { filename: "bench.mp4", filetype: "video/mp4" };
      result.reelayTusMBps!.push(await tusUpload(`${stack.url}/api/tus`, path, bytes, metadata));
      clearInterval(tusSampler);
      result.reelayOneMBps!.push(await reelayUpload(stack.url, path, bytes, 1));
    }
  } finally {
    await stack.stop();
  }
  return result;
}

export function uploadRows(r: UploadBench): (string | number)[][] {
  const gib = (r.bytes / 1024 / MiB).toFixed(1);
  const spread = (xs: number[]) => `${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)}`;
  const reelay = median(r.reelayMBps);
  const curl = median(r.curlMBps);
  const tusPeerMBps = median(r.tusMBps);
  const quarter = (q: number) =>
    Math.max(0, ...r.rssSamples.filter((s) => s.fraction >= q - 0.25 && s.fraction < q).map((s) => s.rss));
  return [
    [
      `upload ${gib} GiB, Reelay (4 in flight)`,
      `${reelay.toFixed(0)} MB/s`,
      `curl -T to disk: ${curl.toFixed(0)} MB/s`,
      (reelay / curl).toFixed(2),
      `${spread(r.reelayMBps)} / ${spread(r.curlMBps)} MB/s, n=${r.runs}`,
    ],
    [
      `upload ${gib} GiB, Reelay (4 in flight)`,
      `${reelay.toFixed(0)} MB/s`,
      `@tus/server + tus-js-client: ${tusPeerMBps.toFixed(0)} MB/s`,
      (reelay / tusPeerMBps).toFixed(2),
      `${spread(r.reelayMBps)} / ${spread(r.tusMBps)} MB/s, n=${r.runs}`,
    ],
    ...(r.reelayTusMBps?.length
      ? [
          [
            `upload ${gib} GiB, Reelay's tus endpoint (tus-js-client, 16 MiB PATCHes)`,
            `${median(r.reelayTusMBps).toFixed(0)} MB/s`,
            `@tus/server + tus-js-client: ${tusPeerMBps.toFixed(0)} MB/s`,
            (median(r.reelayTusMBps) / tusPeerMBps).toFixed(2),
            `${spread(r.reelayTusMBps)} / ${spread(r.tusMBps)} MB/s, n=${r.runs}`,
          ],
          ...(r.reelayOneMBps?.length
            ? [
                [
                  `upload ${gib} GiB, Reelay's tus endpoint (tus-js-client, 16 MiB PATCHes)`,
                  `${median(r.reelayTusMBps).toFixed(0)} MB/s`,
                  `Reelay's own API, 1 chunk in flight: ${median(r.reelayOneMBps).toFixed(0)} MB/s`,
                  (median(r.reelayTusMBps) / median(r.reelayOneMBps)).toFixed(2),
                  `${spread(r.reelayTusMBps)} / ${spread(r.reelayOneMBps)} MB/s, n=${r.runs}`,
                ],
              ]
            : []),
          [
            `workerd RSS during the tus upload`,
            `${((r.workerdTusPeakRss ?? 0) / MiB).toFixed(0)} MiB peak`,
            `idle: ${(r.workerdIdleRss / MiB).toFixed(0)} MiB`,
            ((r.workerdTusPeakRss ?? 0) / r.workerdIdleRss).toFixed(2),
            "sampled every 200 ms",
          ],
        ]
      : []),
    [
      `workerd RSS during upload`,
      `${(r.workerdPeakRss / MiB).toFixed(0)} MiB peak`,
      `idle: ${(r.workerdIdleRss / MiB).toFixed(0)} MiB`,
      (r.workerdPeakRss / r.workerdIdleRss).toFixed(2),
      `peak per quarter of the file: ${[0.25, 0.5, 0.75, 1.01].map((q) => (quarter(q) / MiB).toFixed(0)).join(" / ")} MiB`,
    ],
  ];
}

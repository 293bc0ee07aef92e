/**
 * `npm run upload -- <file> [--title …] [--description …] [--tag …]`
 *
 * Uploads a video with the same client the web page uses, drawing a progress
 * bar on stderr and printing `{ videoId, uploadToken, status }` as JSON on
 * stdout. Interrupted? Run it again with `--resume <videoId> --token=<token>`
 * (with `=`: a token may begin with `-`, which would read as an option)
 * and only the missing chunks are sent.
 *
 * A deployment with `UPLOADER_TOKEN` set takes uploads only with that
 * credential: pass it as `--uploader-token` or `REELAY_UPLOADER_TOKEN`. It is
 * not the per-video `--token` (the upload token the server gives back).
 */
import { basename, extname } from "node:path";
import { parseArgs } from "node:util";
import { ApiError } from "../src/http.ts";
import { type UploadProgress, upload } from "../src/upload-client.ts";
import { openFile } from "./file-source.ts";

const TYPES: Record<string, string> = {
  ".mp4": "video/mp4",
  ".m4v": "video/mp4",
  ".mov": "video/quicktime",
  ".mkv": "video/x-matroska",
  ".webm": "video/webm",
  ".avi": "video/x-msvideo",
  ".ts": "video/mp2t",
  ".mpg": "video/mpeg",
  ".mpeg": "video/mpeg",
};

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    title: { type: "string" },
    description: { type: "string" },
    tag: { type: "string", multiple: true },
    endpoint: { type: "string", default: process.env.REELAY_URL ?? `http://localhost:${process.env.PORT ?? 8787}` },
    "chunk-size": { type: "string" },
    concurrency: { type: "string", default: "4" },
    resume: { type: "string" },
    token: { type: "string" },
    "uploader-token": { type: "string", default: process.env.REELAY_UPLOADER_TOKEN },
    quiet: { type: "boolean", default: false },
  },
});

const path = positionals[0];
if (!path || (values.resume && !values.token)) {
  console.error(
    "usage: npm run upload -- <file> [--title T] [--description D] [--tag X]... [--endpoint URL]\n" +
      "       [--chunk-size BYTES] [--concurrency N] [--resume VIDEO_ID --token UPLOAD_TOKEN] [--quiet]\n" +
      "       [--uploader-token UPLOADER_TOKEN]  (or REELAY_UPLOADER_TOKEN: the deployment's credential to create uploads)",
  );
  process.exit(2);
}

const file = await openFile(path);
const started = Date.now();
let lastDraw = 0;

function draw(p: UploadProgress, final = false) {
  if (values.quiet || (!process.stderr.isTTY && !final)) return;
  const now = Date.now();
  if (!final && now - lastDraw < 100) return;
  lastDraw = now;
  const fraction = p.totalBytes ? p.uploadedBytes / p.totalBytes : 1;
  const width = 30;
  const filled = Math.round(fraction * width);
  const mbps = p.uploadedBytes / 1e6 / Math.max(0.001, (now - started) / 1000);
  const eta = mbps > 0 ? (p.totalBytes - p.uploadedBytes) / 1e6 / mbps : 0;
  const line =
    `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${(fraction * 100).toFixed(1)}% ` +
    `${p.chunksDone}/${p.totalChunks} chunks ${mbps.toFixed(1)} MB/s ETA ${Math.ceil(eta)}s`;
  process.stderr.write(process.stderr.isTTY ? `\r${line}` : `${line}\n`);
}

let last: UploadProgress | undefined;
try {
  const result = await upload({
    endpoint: values.endpoint!,
    uploaderToken: values["uploader-token"],
    file,
    filename: basename(path),
    contentType: TYPES[extname(path).toLowerCase()] ?? "application/octet-stream",
    title: values.title,
    description: values.description,
    tags: values.tag,
    chunkSize: values["chunk-size"] ? Number(values["chunk-size"]) : undefined,
    concurrency: Number(values.concurrency),
    resume: values.resume ? { videoId: values.resume, uploadToken: values.token! } : undefined,
    onSession: (s) => {
      if (!values.quiet)
        console.error(
          `upload ${s.videoId}: ${s.totalChunks} chunk(s) of ${s.chunkSize} bytes; resume with --resume ${s.videoId} --token=${s.uploadToken}`,
        );
    },
    onProgress: (p) => {
      last = p;
      draw(p);
    },
  });
  if (last) draw(last, true);
  if (!values.quiet && process.stderr.isTTY) process.stderr.write("\n");
  console.log(JSON.stringify(result));
} catch (err) {
  if (process.stderr.isTTY) process.stderr.write("\n");
  if (err instanceof ApiError) {
    console.error(`upload failed: ${err.status} ${err.code}: ${err.message}`);
  } else {
    console.error(`upload failed: ${(err as Error).message}`);
  }
  process.exit(1);
}

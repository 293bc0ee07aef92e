// The real stack from `npm start`, driven as a user would: the CLI, curl-like
// HTTP clients, and connections dropped in the middle of a chunk. The CLI
// talks through a recording proxy: it retries 5xx answers, so only the
// proxy's record shows whether the worker gave any.
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ChunkReceiptSchema,
  CompletionSchema,
  UploadCreatedSchema,
  UploadStatusSchema,
} from "../../worker/contracts/upload.ts";
import { expectError } from "../expect-error.ts";
import { sha256 } from "../helpers.ts";
import { root, startStack, type Stack } from "../stack.ts";
import { serverErrors, startRecordingProxy, type RecordingProxy } from "./recording-proxy.ts";

const MiB = 1024 * 1024;
let stack: Stack;
let dir: string;
let proxy: RecordingProxy;

beforeAll(async () => {
  stack = await startStack();
  dir = await mkdtemp(join(tmpdir(), "reelay-e2e-"));
  proxy = await startRecordingProxy(stack.url);
});

afterAll(async () => {
  await proxy?.close();
  await stack?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

type CliRun = {
  done: Promise<{ code: number; stdout: string; stderr: string }>;
  stderr: () => string;
  kill: () => void;
};

function startCli(args: string[]): CliRun {
  // Its own process group, so a kill reaches the CLI under npm too.
  const child = spawn("npm", ["run", "--silent", "upload", "--", ...args], { cwd: root, detached: true });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const done = new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
    child.on("exit", (code) => resolve({ code: code ?? 1, stdout, stderr })),
  );
  return { done, stderr: () => stderr, kill: () => process.kill(-child.pid!, "SIGKILL") };
}

const runCli = (args: string[]) => startCli(args).done;

async function createUpload(size: number) {
  const res = await fetch(`${stack.url}/api/uploads`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ filename: "drop.mp4", size, contentType: "video/mp4", chunkSize: 5 * MiB }),
  });
  expect(res.status).toBe(201);
  return UploadCreatedSchema.parse(await res.json());
}

async function uploadStatus(videoId: string, token: string) {
  const res = await fetch(`${stack.url}/api/uploads/${videoId}`, { headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  return UploadStatusSchema.parse(await res.json());
}

describe("npm start + the upload CLI", () => {
  it("uploads a multi-chunk file that comes back byte for byte", async () => {
    const file = randomBytes(23 * MiB + 321);
    const path = join(dir, "holiday clip.mp4");
    await writeFile(path, file);
    const from = proxy.exchanges.length;
    const run = await runCli([
      path,
      "--title",
      "Holiday clip",
      "--tag",
      "e2e",
      "--chunk-size",
      String(5 * MiB),
      "--endpoint",
      proxy.url,
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(serverErrors(proxy.exchanges.slice(from))).toEqual([]);
    const result = JSON.parse(run.stdout.trim().split("\n").at(-1)!);
    expect(result).toMatchObject({
      videoId: expect.any(String),
      uploadToken: expect.any(String),
      status: "processing",
    });
    expect(run.stderr).toContain("5/5 chunks");

    const status = await uploadStatus(result.videoId, result.uploadToken);
    expect(status).toMatchObject({ status: "processing", totalChunks: 5, received: [1, 2, 3, 4, 5] });
    const source = await fetch(`${stack.url}/api/videos/${result.videoId}/source`, {
      headers: { authorization: `Bearer ${result.uploadToken}` },
    });
    expect(source.status).toBe(200);
    expect(source.headers.get("content-disposition")).toContain("holiday clip.mp4");
    expect(sha256(new Uint8Array(await source.arrayBuffer()))).toBe(sha256(file));
  });

  it("resumes an interrupted CLI upload with --resume --token, sending only the chunks the server lacks", async () => {
    const file = randomBytes(4 * 5 * MiB + 4321);
    const path = join(dir, "interrupted.mp4");
    await writeFile(path, file);
    // The network lets two chunks through, then the CLI is killed mid-upload.
    const from = proxy.exchanges.length;
    proxy.forwardChunks(proxy.exchanges.filter((e) => e.chunk !== undefined).length + 2);
    const first = startCli([path, "--chunk-size", String(5 * MiB), "--endpoint", proxy.url]);
    const stored = () => proxy.exchanges.slice(from).filter((e) => e.chunk !== undefined && e.status === 200);
    const session = () => /--resume (\S+) --token=(\S+)/.exec(first.stderr());
    for (const deadline = Date.now() + 60_000; stored().length < 2 || !session(); ) {
      if (Date.now() > deadline) throw new Error(`the CLI did not get two chunks through: ${first.stderr()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    first.kill();
    expect((await first.done).code).not.toBe(0);
    const [, videoId, token] = session()!;
    const before = await uploadStatus(videoId, token);
    expect(before.totalChunks).toBe(5);
    expect(before.received.toSorted()).toEqual(
      stored()
        .map((e) => e.chunk)
        .toSorted(),
    );
    const missing = [1, 2, 3, 4, 5].filter((n) => !before.received.includes(n));

    proxy.forwardChunks(Infinity);
    const resumedFrom = proxy.exchanges.length;
    const second = await runCli([path, "--resume", videoId, `--token=${token}`, "--endpoint", proxy.url]);
    expect(second.code, second.stderr).toBe(0);
    expect(JSON.parse(second.stdout.trim().split("\n").at(-1)!)).toEqual({
      videoId,
      uploadToken: token,
      status: "processing",
    });
    const resent = proxy.exchanges.slice(resumedFrom).filter((e) => e.chunk !== undefined);
    expect(resent.map((e) => e.chunk).toSorted()).toEqual(missing);
    expect(serverErrors(proxy.exchanges.slice(from))).toEqual([]);
    const source = await fetch(`${stack.url}/api/videos/${videoId}/source`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(sha256(new Uint8Array(await source.arrayBuffer()))).toBe(sha256(file));
  });

  it("costs only the chunk in flight when a connection drops mid-body", async () => {
    const file = randomBytes(6 * MiB);
    const up = await createUpload(file.length);
    const chunk = file.subarray(0, up.chunkSize);
    const digest = `sha-256=:${createHash("sha256").update(chunk).digest("base64")}:`;
    const headers = { authorization: `Bearer ${up.uploadToken}`, "content-digest": digest };

    // Send half of chunk 1, then cut the connection.
    await new Promise<void>((resolve) => {
      const req = request(`${stack.url}/api/uploads/${up.videoId}/chunks/1`, {
        method: "PUT",
        headers: { ...headers, "content-length": String(chunk.length) },
      });
      req.on("error", () => resolve());
      req.on("response", () => resolve());
      req.write(chunk.subarray(0, 2 * MiB), () => setTimeout(() => req.destroy(), 300));
    });

    // The resend succeeds at once: the dropped request's lease was released.
    let res: Response | undefined;
    const started = Date.now();
    for (let i = 0; i < 20; i++) {
      res = await fetch(`${stack.url}/api/uploads/${up.videoId}/chunks/1`, { method: "PUT", headers, body: chunk });
      if (res.status !== 409) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(res!.status).toBe(200);
    expect(ChunkReceiptSchema.parse(await res!.json())).toMatchObject({ chunk: 1, size: chunk.length, received: 1 });
    expect(Date.now() - started).toBeLessThan(10_000);
    const rest = file.subarray(up.chunkSize);
    const ok = await fetch(`${stack.url}/api/uploads/${up.videoId}/chunks/2`, {
      method: "PUT",
      headers: {
        authorization: headers.authorization,
        "content-digest": `sha-256=:${createHash("sha256").update(rest).digest("base64")}:`,
      },
      body: rest,
    });
    expect(ok.status).toBe(200);
    expect(ChunkReceiptSchema.parse(await ok.json())).toMatchObject({ chunk: 2, received: 2, totalChunks: 2 });
    const done = await fetch(`${stack.url}/api/uploads/${up.videoId}/complete`, {
      method: "POST",
      headers: { authorization: headers.authorization },
    });
    expect(done.status).toBe(202);
    expect(CompletionSchema.parse(await done.json())).toEqual({ videoId: up.videoId, status: "processing" });
    const source = await fetch(`${stack.url}/api/videos/${up.videoId}/source`, {
      headers: { authorization: headers.authorization },
    });
    expect(sha256(new Uint8Array(await source.arrayBuffer()))).toBe(sha256(file));
  });

  it("refuses a body larger than any chunk may be with 413 and keeps nothing", async () => {
    const up = await createUpload(200 * MiB);
    const res = await fetch(`${stack.url}/api/uploads/${up.videoId}/chunks/1`, {
      method: "PUT",
      headers: {
        authorization: `Bearer ${up.uploadToken}`,
        "content-digest": `sha-256=:${Buffer.alloc(32).toString("base64")}:`,
      },
      body: new Uint8Array(96 * MiB),
    });
    await expectError(res, 413, "payload_too_large");
    expect((await uploadStatus(up.videoId, up.uploadToken)).received).toEqual([]);
  });
});

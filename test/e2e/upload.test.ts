// The real stack from `npm start`, driven as a user would: the CLI, curl-like
// HTTP clients, and connections dropped in the middle of a chunk.
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { root, startStack, type Stack } from "../stack.ts";

const MiB = 1024 * 1024;
let stack: Stack;
let dir: string;

beforeAll(async () => {
  stack = await startStack();
  dir = await mkdtemp(join(tmpdir(), "reelay-e2e-"));
});

afterAll(async () => {
  await stack?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const sha256 = (data: Uint8Array) => createHash("sha256").update(data).digest("hex");

function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn("npm", ["run", "--silent", "upload", "--", ...args], { cwd: root });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("exit", (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

async function createUpload(size: number) {
  const res = await fetch(`${stack.url}/api/uploads`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ filename: "drop.mp4", size, contentType: "video/mp4", chunkSize: 5 * MiB }),
  });
  expect(res.status).toBe(201);
  return (await res.json()) as { videoId: string; uploadToken: string; chunkSize: number; totalChunks: number };
}

describe("npm start + the upload CLI", () => {
  it("uploads a multi-chunk file that comes back byte for byte", async () => {
    const file = randomBytes(23 * MiB + 321);
    const path = join(dir, "holiday clip.mp4");
    await writeFile(path, file);
    const run = await runCli([path, "--title", "Holiday clip", "--tag", "e2e", "--chunk-size", String(5 * MiB), "--endpoint", stack.url]);
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout.trim().split("\n").at(-1)!);
    expect(result).toMatchObject({ videoId: expect.any(String), uploadToken: expect.any(String), status: "processing" });
    expect(run.stderr).toContain("5/5 chunks");

    const auth = { authorization: `Bearer ${result.uploadToken}` };
    const status = await (await fetch(`${stack.url}/api/uploads/${result.videoId}`, { headers: auth })).json();
    expect(status).toMatchObject({ status: "processing", totalChunks: 5, received: [1, 2, 3, 4, 5] });
    const source = await fetch(`${stack.url}/api/videos/${result.videoId}/source`, { headers: auth });
    expect(source.status).toBe(200);
    expect(source.headers.get("content-disposition")).toContain("holiday clip.mp4");
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
    expect(Date.now() - started).toBeLessThan(10_000);
    const rest = file.subarray(up.chunkSize);
    const ok = await fetch(`${stack.url}/api/uploads/${up.videoId}/chunks/2`, {
      method: "PUT",
      headers: { authorization: headers.authorization, "content-digest": `sha-256=:${createHash("sha256").update(rest).digest("base64")}:` },
      body: rest,
    });
    expect(ok.status).toBe(200);
    const done = await fetch(`${stack.url}/api/uploads/${up.videoId}/complete`, { method: "POST", headers: { authorization: headers.authorization } });
    expect(done.status).toBe(202);
    const source = await fetch(`${stack.url}/api/videos/${up.videoId}/source`, { headers: { authorization: headers.authorization } });
    expect(sha256(new Uint8Array(await source.arrayBuffer()))).toBe(sha256(file));
  });

  it("refuses a body larger than any chunk may be with 413 and keeps nothing", async () => {
    const up = await createUpload(200 * MiB);
    const res = await fetch(`${stack.url}/api/uploads/${up.videoId}/chunks/1`, {
      method: "PUT",
      headers: { authorization: `Bearer ${up.uploadToken}`, "content-digest": `sha-256=:${Buffer.alloc(32).toString("base64")}:` },
      body: new Uint8Array(96 * MiB),
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ error: { code: "payload_too_large" } });
    const status = await (await fetch(`${stack.url}/api/uploads/${up.videoId}`, { headers: { authorization: `Bearer ${up.uploadToken}` } })).json();
    expect(status.received).toEqual([]);
  });
});

// Private videos on the real stack (`npm start`), played as a person's player
// would: ffmpeg opens the one tokenized master URL and reads every playlist,
// init segment and segment below it; without a token, with an expired one, or
// after the owner revokes every token, nothing of the video's media is served.
// A token minted by hand from the documented recipe (a backend's own) plays too.
import { createHmac } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ffmpegPaths } from "../../transcoder/ffmpeg-path.ts";
import type { PlaybackToken } from "../../worker/contracts/playback-token.ts";
import { isFinal, makeVideo, run, uploadFile, waitForVideo } from "../helpers.ts";
import { startStack, type Stack } from "../stack.ts";

let stack: Stack;
let dir: string;
let videoId: string;
let ownerToken: string;
let durationSec: number;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "reelay-private-"));
  const [started, clip] = await Promise.all([
    startStack(),
    makeVideo(join(dir, "course.mp4"), { size: "640x360", seconds: 6 }),
  ]);
  stack = started;
  const up = await uploadFile(stack.url, clip, "Lesson one");
  videoId = up.videoId;
  ownerToken = up.uploadToken;
  const ready = await waitForVideo(stack.url, videoId, isFinal, 180_000);
  durationSec = ready.durationSec!;
  const made = await api(`/api/videos/${videoId}`, "PATCH", { visibility: "private" });
  expect(made.status).toBe(200);
}, 240_000);

afterAll(async () => {
  await stack?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function api(path: string, method = "GET", body?: unknown): Promise<Response> {
  return fetch(`${stack.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${ownerToken}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** What ffprobe makes of a URL: the duration it read, or its complaint. */
async function probe(url: string): Promise<{ ok: true; durationSec: number } | { ok: false; error: string }> {
  try {
    const { stdout } = await run(ffmpegPaths().ffprobe, [
      "-v",
      "error",
      "-show_entries",
      "format=duration",
      "-of",
      "json",
      url,
    ]);
    return { ok: true, durationSec: Number(JSON.parse(stdout).format.duration) };
  } catch (error) {
    return { ok: false, error: String((error as { stderr?: string }).stderr ?? error) };
  }
}

/** Every URL the master names, and every URL the first media playlist names. */
async function urlsBelow(master: string): Promise<string[]> {
  const text = await (await fetch(master)).text();
  const uris = (playlist: string, base: string) =>
    playlist
      .split("\n")
      .flatMap((line) => (line.startsWith("#") ? [...line.matchAll(/URI="([^"]+)"/g)].map((m) => m[1]!) : [line]))
      .filter((u) => u.trim() !== "")
      .map((u) => new URL(u, base).href);
  const variants = uris(text, master);
  const media = variants.find((u) => u.includes("/index.m3u8"))!;
  return [...variants, ...uris(await (await fetch(media)).text(), media)];
}

/** A token by the README's recipe, as a backend holding PLAYBACK_SIGNING_KEY mints it. */
async function mintedByBackend(exp: number, generation: number): Promise<string> {
  const key = (await readFile(join(stack.stateDir, "playback-signing-key"), "utf8")).trim();
  const videoKey = createHmac("sha256", key).update(`reelay-playback:${videoId}:${generation}`).digest();
  const signature = createHmac("sha256", videoKey).update(`${videoId}.${exp}.p.${generation}`).digest("base64url");
  return `${exp}.p.${generation}.${signature}`;
}

describe("a private video", () => {
  it("is refused to ffmpeg, and to every media URL, without a token", async () => {
    const refused = await probe(`${stack.url}/videos/${videoId}/master.m3u8`);
    expect(refused.ok).toBe(false);
    const res = await fetch(`${stack.url}/videos/${videoId}/master.m3u8`);
    expect(res.status).toBe(401);
    expect((await res.json()).error.code).toBe("playback_token_required");
    const described = await fetch(`${stack.url}/api/videos/${videoId}`);
    expect(described.status).toBe(401);
    const search = await (await fetch(`${stack.url}/api/videos?q=Lesson`)).json();
    expect(search.items).toEqual([]);
  });

  it("plays in ffmpeg from the one tokenized master URL, every URL below it carrying the token", async () => {
    const res = await api(`/api/videos/${videoId}/playback-tokens`, "POST", { expiresInSeconds: 600 });
    expect(res.status).toBe(201);
    const minted = (await res.json()) as PlaybackToken;
    const master = new URL(minted.hls, stack.url).href;
    const played = await probe(master);
    expect(played).toEqual({ ok: true, durationSec: expect.closeTo(durationSec, 1) });

    const below = await urlsBelow(master);
    expect(below.length).toBeGreaterThan(2);
    for (const url of below) {
      expect(new URL(url).searchParams.get("token"), url).toBe(minted.token);
      const bare = new URL(url);
      bare.searchParams.delete("token");
      expect((await fetch(bare)).status, bare.href).toBe(401);
    }
    const segment = await fetch(below.find((u) => u.includes(".m4s"))!);
    expect(segment.status).toBe(200);
    expect(segment.headers.get("cache-control")).toMatch(/^private, max-age=\d+$/);
  });

  it("plays from a token a backend minted with the signing key, and refuses it once it expires", async () => {
    const exp = Math.floor(Date.now() / 1000) + 4;
    const token = await mintedByBackend(exp, 1);
    const master = `${stack.url}/videos/${videoId}/master.m3u8?token=${token}`;
    expect((await probe(master)).ok).toBe(true);
    await new Promise((r) => setTimeout(r, Math.max(0, exp * 1000 - Date.now()) + 500));
    expect((await probe(master)).ok).toBe(false);
    const res = await fetch(master);
    expect(res.status).toBe(403);
    expect((await res.json()).error).toMatchObject({ code: "playback_token_invalid", reason: "expired" });
  });

  it("stops playing from every earlier token once the owner revokes them", async () => {
    const before = (await (await api(`/api/videos/${videoId}/playback-tokens`, "POST", {})).json()) as PlaybackToken;
    expect((await probe(new URL(before.hls, stack.url).href)).ok).toBe(true);
    expect((await api(`/api/videos/${videoId}/playback-tokens`, "DELETE")).status).toBe(204);
    const res = await fetch(new URL(before.hls, stack.url));
    expect(res.status).toBe(403);
    expect((await res.json()).error.reason).toBe("revoked");
    const after = (await (await api(`/api/videos/${videoId}/playback-tokens`, "POST", {})).json()) as PlaybackToken;
    expect((await probe(new URL(after.hls, stack.url).href)).ok).toBe(true);
  });

  it("plays unsigned again, at once, when made public", async () => {
    expect((await api(`/api/videos/${videoId}`, "PATCH", { visibility: "public" })).status).toBe(200);
    expect((await probe(`${stack.url}/videos/${videoId}/master.m3u8`)).ok).toBe(true);
    expect((await api(`/api/videos/${videoId}`, "PATCH", { visibility: "private" })).status).toBe(200);
    expect((await fetch(`${stack.url}/videos/${videoId}/master.m3u8`)).status).toBe(401);
  });
});

describe("the embed page and oEmbed", () => {
  it("lets other sites frame the embed page only, and the watch page names its oEmbed", async () => {
    const embed = await fetch(`${stack.url}/embed/${videoId}`);
    expect(embed.status).toBe(200);
    expect(embed.headers.get("content-security-policy")).toMatch(/frame-ancestors \*$/);
    const watch = await fetch(`${stack.url}/watch/${videoId}`);
    expect(watch.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    const html = await watch.text();
    const link = html.match(/<link rel="alternate" type="application\/json\+oembed" href="([^"]+)">/)?.[1];
    expect(link).toBeDefined();
    const oembedUrl = new URL(link!.replaceAll("&amp;", "&"), stack.url);
    expect(oembedUrl.searchParams.get("url")).toBe(`${stack.url}/watch/${videoId}`);
    // The video is private: its oEmbed is 404 until it is public.
    expect((await fetch(oembedUrl)).status).toBe(404);
    expect((await api(`/api/videos/${videoId}`, "PATCH", { visibility: "public" })).status).toBe(200);
    const body = await (await fetch(oembedUrl)).json();
    expect(body).toMatchObject({ type: "video", title: "Lesson one", width: 640, height: 360 });
    expect(body.html).toContain(`src="${stack.url}/embed/${videoId}"`);
  });
});

/**
 * What a playback token costs a player: request latency of the same files of
 * the same clip, uploaded twice to the real local stack and fully processed,
 * one video left public (no token: the baseline), the other made private and
 * played with a token minted by `POST /api/videos/:id/playback-tokens`. The
 * private master and media playlists are rewritten with the token on every
 * URI (playback-access.ts `tokenizedPlaylist`), and every request verifies
 * the token's signature. The two are requested alternately, so noise hits
 * both alike.
 */
import { mkdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { isFinal, makeVideo, waitForVideo } from "../test/helpers.ts";
import { root, startStack } from "../test/stack.ts";
import { upload } from "../web/src/upload-client.ts";
import { PlaybackTokenSchema } from "../worker/contracts/playback-token.ts";
import { percentile } from "./lib.ts";

const FILES = ["master playlist", "media playlist", "segment"] as const;
type FileKind = (typeof FILES)[number];
const SIDES = ["public", "private"] as const;
type Side = (typeof SIDES)[number];

/** The clip: short, so processing takes seconds; 720p, so the ladder has a few rungs. */
const CLIP = { size: "1280x720", seconds: 8 };
/** Requests of each file of each side before counting: connections and the Worker's isolate warm up. */
const WARMUP = 10;

export type PrivatePlaybackBench = {
  requests: number;
  clip: { size: string; seconds: number; bytes: number };
  videos: Record<Side, string>;
  /** The URLs requested, the token shown as `TOKEN`. */
  urls: Record<Side, Record<FileKind, string>>;
  /** Each file's body size: the private playlists carry the token on every URI. */
  bytes: Record<Side, Record<FileKind, number>>;
  /** Milliseconds from the request until the whole body is read, per file kind and side. */
  samples: Record<FileKind, Record<Side, number[]>>;
};

/** The body, or a failure naming the URL and the status. */
async function get(url: string): Promise<Uint8Array> {
  const res = await fetch(url);
  const body = new Uint8Array(await res.arrayBuffer());
  if (res.status !== 200) throw new Error(`private-playback: ${url}: ${res.status} ${new TextDecoder().decode(body)}`);
  return body;
}

/** The first URI line of a playlist, resolved against its URL. */
async function firstUri(playlistUrl: string): Promise<string> {
  const text = new TextDecoder().decode(await get(playlistUrl));
  const uri = text.split("\n").find((l) => l.trim() !== "" && !l.startsWith("#"));
  if (!uri) throw new Error(`private-playback: ${playlistUrl} names no URI:\n${text}`);
  return new URL(uri.trim(), playlistUrl).toString();
}

/** The master, its first variant's media playlist and that playlist's first segment. */
async function filesOf(master: string): Promise<Record<FileKind, string>> {
  const media = await firstUri(master);
  return { "master playlist": master, "media playlist": media, segment: await firstUri(media) };
}

export async function benchPrivatePlayback(requests = 300): Promise<PrivatePlaybackBench> {
  const dir = join(root, "bench/tmp");
  await mkdir(dir, { recursive: true });
  const clip = await makeVideo(join(dir, "private-playback.mp4"), CLIP);
  const file = new Blob([await readFile(clip)]);
  const stack = await startStack();
  try {
    const up = {} as Record<Side, { videoId: string; uploadToken: string }>;
    for (const side of SIDES)
      up[side] = await upload({
        endpoint: stack.url,
        file,
        filename: "clip.mp4",
        contentType: "video/mp4",
        title: `Playback ${side}`,
      });
    for (const side of SIDES) await waitForVideo(stack.url, up[side].videoId, isFinal, 600_000);

    const owner = (side: Side) => ({
      authorization: `Bearer ${up[side].uploadToken}`,
      "content-type": "application/json",
    });
    const made = await fetch(`${stack.url}/api/videos/${up.private.videoId}`, {
      method: "PATCH",
      headers: owner("private"),
      body: JSON.stringify({ visibility: "private" }),
    });
    if (made.status !== 200) throw new Error(`private-playback: PATCH visibility: ${made.status} ${await made.text()}`);
    const minted = await fetch(`${stack.url}/api/videos/${up.private.videoId}/playback-tokens`, {
      method: "POST",
      headers: owner("private"),
      // Longer than any run takes, so no request meets an expired token.
      body: JSON.stringify({ expiresInSeconds: 6 * 3600 }),
    });
    if (minted.status !== 201) throw new Error(`private-playback: mint: ${minted.status} ${await minted.text()}`);
    const { token, hls } = PlaybackTokenSchema.parse(await minted.json());

    const urls: Record<Side, Record<FileKind, string>> = {
      public: await filesOf(`${stack.url}/videos/${up.public.videoId}/master.m3u8`),
      private: await filesOf(new URL(hls, stack.url).toString()),
    };
    // The private files are reached through the token the playlists carry, and refused without it.
    for (const kind of FILES) {
      const url = new URL(urls.private[kind]);
      if (url.searchParams.get("token") !== token) throw new Error(`private-playback: ${url} lacks the token`);
      url.searchParams.delete("token");
      const refused = await fetch(url);
      await refused.arrayBuffer();
      if (refused.status !== 401) throw new Error(`private-playback: ${url} without a token: ${refused.status}`);
    }
    const bytes = {} as PrivatePlaybackBench["bytes"];
    for (const side of SIDES) {
      bytes[side] = {} as Record<FileKind, number>;
      for (const kind of FILES) bytes[side][kind] = (await get(urls[side][kind])).length;
    }

    const samples = {} as PrivatePlaybackBench["samples"];
    for (const kind of FILES) samples[kind] = { public: [], private: [] };
    for (let i = -WARMUP; i < requests; i++) {
      // Kinds in rotating order, the side going first alternating.
      for (let j = 0; j < FILES.length; j++) {
        const kind = FILES[(i + WARMUP + j) % FILES.length];
        for (const side of i % 2 === 0 ? SIDES : ([...SIDES].reverse() as Side[])) {
          const t = performance.now();
          await get(urls[side][kind]);
          if (i >= 0) samples[kind][side].push(performance.now() - t);
        }
      }
    }
    const shown = (url: string) => url.replace(stack.url, "").replace(token, "TOKEN");
    return {
      requests,
      clip: { ...CLIP, bytes: (await stat(clip)).size },
      videos: { public: up.public.videoId, private: up.private.videoId },
      urls: Object.fromEntries(
        SIDES.map((side) => [side, Object.fromEntries(FILES.map((k) => [k, shown(urls[side][k])]))]),
      ) as PrivatePlaybackBench["urls"],
      bytes,
      samples,
    };
  } finally {
    await stack.stop();
  }
}

export function privatePlaybackRows(r: PrivatePlaybackBench): (string | number)[][] {
  const ms = (xs: number[]) => `${percentile(xs, 50).toFixed(2)} / ${percentile(xs, 95).toFixed(2)} ms`;
  const ratio = (a: number[], b: number[], p: number) => (percentile(a, p) / percentile(b, p)).toFixed(2);
  return FILES.map((kind) => {
    const { public: open, private: closed } = r.samples[kind];
    return [
      `private playback, ${kind} (${CLIP.size.split("x")[1]}p ${r.clip.seconds} s clip; p50 / p95)`,
      `private, with token: ${ms(closed)}`,
      `public, no token: ${ms(open)}`,
      ratio(closed, open, 50),
      `p95 ratio ${ratio(closed, open, 95)}; n=${closed.length} each, interleaved; ${r.bytes.private[kind]} / ${r.bytes.public[kind]} bytes`,
    ];
  });
}

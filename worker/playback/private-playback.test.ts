// Private videos: every media URL (master and media playlists, init segments,
// segments, posters, thumbnails, the storyboard, captions, downloads) and the
// video's description refuse a request without a playback token, or with one
// that does not open the video, and serve nothing of it; with one they play,
// every URL below the master carrying it, cached only by the browser. A
// change of visibility takes effect on the next request.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Frames } from "../contracts/job.ts";
import { frameFile, spriteFile, STORYBOARD_FILE, storyboardVtt } from "../contracts/storyboard.ts";
import { updateVideo } from "../db/videos.ts";
import { jobFileKey } from "../storage/keys.ts";
import { api, auth, bytes, type Created, json } from "../testing/helpers.ts";
import { event, metadata, processingVideo, publishPlayable, put } from "../testing/processing.ts";
import { signPlaybackToken } from "./playback-token.ts";

const KEY = "test-playback-signing-key-0123456789abcdef";
const FRAMES: Frames = {
  intervalSec: 2,
  count: 3,
  widths: [160],
  sprite: { tileWidth: 160, tileHeight: 90, columns: 5, rows: 6 },
  bytes: 0,
};
const VTT = "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nHello there\n";

type Private = { up: Created; jobId: string };

/** A fully processed video with frames, a caption track and downloads made, then made private. */
async function privateVideo(): Promise<Private> {
  const { up, job } = await processingVideo({ title: "Members only" });
  await publishPlayable(job, { ...metadata, durationSec: 6 });
  for (let i = 0; i < FRAMES.count; i++) expect((await put(job, frameFile(160, i), bytes(100, i))).status).toBe(204);
  expect((await put(job, spriteFile(0), bytes(300, 7))).status).toBe(204);
  expect((await put(job, STORYBOARD_FILE, storyboardVtt(FRAMES, [{ first: 0, count: 3 }], 6))).status).toBe(204);
  const completed = await event(job, { type: "completed", metadata: { ...metadata, durationSec: 6, frames: FRAMES } });
  expect(completed.status).toBe(200);
  const caption = await api(`/api/videos/${up.videoId}/captions/en`, {
    method: "PUT",
    headers: { ...auth(up), "content-type": "text/vtt" },
    body: VTT,
  });
  expect(caption.status).toBe(201);
  await env.VIDEOS.put(jobFileKey(up.videoId, job.jobId, "download.mp4"), bytes(2000, 5));
  await updateVideo(env.DB, up.videoId, { downloadable: true, downloads: { state: "ready", jobId: job.jobId } });
  await setVisibility(up, "private");
  return { up, jobId: job.jobId };
}

async function setVisibility(up: Created, visibility: string): Promise<void> {
  const res = await api(`/api/videos/${up.videoId}`, {
    method: "PATCH",
    headers: { ...auth(up), "content-type": "application/json" },
    body: JSON.stringify({ visibility }),
  });
  expect(res.status).toBe(200);
}

async function mint(up: Created, body: Record<string, unknown> = {}): Promise<string> {
  const res = await api(`/api/videos/${up.videoId}/playback-tokens`, {
    method: "POST",
    headers: { ...auth(up), "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(201);
  return (await json(res)).token;
}

/** Every media URL of the video, as players and pages reach them. */
const mediaUrls = ({ up, jobId }: Private) => {
  const v = `/videos/${up.videoId}`;
  return [
    `${v}/master.m3u8`,
    `${v}/${jobId}/source/index.m3u8`,
    `${v}/${jobId}/source/init.mp4`,
    `${v}/${jobId}/source/seg_00001.m4s`,
    `${v}/${jobId}/poster.jpg`,
    `${v}/poster.jpg`,
    `${v}/thumbnail.jpg?time=2`,
    `${v}/storyboard.vtt`,
    `${v}/${jobId}/${spriteFile(0)}`,
    `${v}/captions/en.m3u8`,
    `${v}/captions/en.vtt`,
    `${v}/download.mp4`,
  ];
};

const withToken = (url: string, token: string) => `${url}${url.includes("?") ? "&" : "?"}token=${token}`;

describe("a private video", () => {
  it("refuses every media URL without a token, 401 with no byte of the video", async () => {
    const video = await privateVideo();
    for (const url of mediaUrls(video)) {
      const res = await api(url);
      expect(res.status, url).toBe(401);
      expect(res.headers.get("content-type"), url).toContain("application/json");
      expect((await json(res)).error.code, url).toBe("playback_token_required");
    }
  });

  it("serves every media URL with a token, cached by the browser only and never past the token's expiry", async () => {
    const video = await privateVideo();
    const token = await mint(video.up, { expiresInSeconds: 120, downloadable: true });
    for (const url of mediaUrls(video)) {
      const res = await api(withToken(url, token));
      expect(res.status, url).toBe(200);
      const cache = res.headers.get("cache-control") ?? "";
      expect(cache, url).toMatch(/^private, (no-cache|max-age=(\d+))$/);
      const age = Number(cache.match(/max-age=(\d+)/)?.[1] ?? 0);
      expect(age, url).toBeLessThanOrEqual(120);
    }
  });

  it("names every URL below the master with the token, so a player needs only the master's URL", async () => {
    const video = await privateVideo();
    const token = await mint(video.up);
    const master = await (await api(withToken(`/videos/${video.up.videoId}/master.m3u8`, token))).text();
    const uris = [
      ...master.split("\n").filter((l) => l.trim() !== "" && !l.startsWith("#")),
      ...[...master.matchAll(/URI="([^"]+)"/g)].map((m) => m[1]!),
    ];
    expect(uris.length).toBeGreaterThanOrEqual(2);
    for (const uri of uris) expect(new URL(uri, "http://x/videos/").searchParams.get("token"), uri).toBe(token);
    const media = await (
      await api(withToken(`/videos/${video.up.videoId}/${video.jobId}/source/index.m3u8`, token))
    ).text();
    const segments = media.split("\n").filter((l) => l.trim() !== "" && !l.startsWith("#"));
    expect(segments).toEqual([`seg_00001.m4s?token=${token}`]);
    const subtitles = await (await api(withToken(`/videos/${video.up.videoId}/captions/en.m3u8`, token))).text();
    expect(subtitles).toContain(`en.vtt?token=${token}`);
    const storyboard = await (await api(withToken(`/videos/${video.up.videoId}/storyboard.vtt`, token))).text();
    expect(storyboard).toContain(`/${spriteFile(0)}?token=${token}#xywh=0,0,160,90`);
  });

  it("refuses a tampered token, another video's, an expired one and one whose key was rotated, 403 with the reason", async () => {
    const video = await privateVideo();
    const other = await privateVideo();
    const master = `/videos/${video.up.videoId}/master.m3u8`;
    const token = await mint(video.up);
    const [exp, rights, gen, sig] = token.split(".");
    const expired = await signPlaybackToken(KEY, {
      videoId: video.up.videoId,
      exp: Math.floor(Date.now() / 1000) - 1,
      rights: "p",
      generation: 1,
    });
    const refusals: Array<[string, string]> = [
      [`${Number(exp) + 3600}.${rights}.${gen}.${sig}`, "invalid"],
      [`${exp}.pd.${gen}.${sig}`, "invalid"],
      [await mint(other.up), "invalid"],
      [expired, "expired"],
      ["not-a-token", "malformed"],
    ];
    for (const [bad, reason] of refusals) {
      const res = await api(withToken(master, bad));
      expect(res.status, bad).toBe(403);
      expect((await json(res)).error, bad).toMatchObject({ code: "playback_token_invalid", reason });
    }
    expect((await api(withToken(master, token))).status).toBe(200);
    const revoke = await api(`/api/videos/${video.up.videoId}/playback-tokens`, {
      method: "DELETE",
      headers: auth(video.up),
    });
    expect(revoke.status).toBe(204);
    const revoked = await api(withToken(master, token));
    expect(revoked.status).toBe(403);
    expect((await json(revoked)).error.reason).toBe("revoked");
    expect((await api(withToken(master, await mint(video.up)))).status).toBe(200);
    // The other video's tokens are untouched.
    expect((await api(withToken(`/videos/${other.up.videoId}/master.m3u8`, await mint(other.up)))).status).toBe(200);
  });

  it("lists its caption tracks only with a token, their URLs carrying it", async () => {
    const video = await privateVideo();
    const list = `/api/videos/${video.up.videoId}/captions`;
    const refused = await api(list);
    expect(refused.status).toBe(401);
    expect((await json(refused)).error.code).toBe("playback_token_required");
    // Nor does a track that does not exist tell anything without a token.
    expect((await api(`/videos/${video.up.videoId}/captions/fr.vtt`)).status).toBe(401);
    const token = await mint(video.up);
    const { tracks } = await json(await api(`${list}?token=${token}`));
    expect(tracks.map((t: { vtt: string }) => t.vtt)).toEqual([
      `/videos/${video.up.videoId}/captions/en.vtt?token=${token}`,
    ]);
    const owned = await json(await api(list, { headers: auth(video.up) }));
    expect(owned.tracks[0].playlist).toMatch(/\/captions\/en\.m3u8\?token=\d+\.pd\.1\./);
  });

  it("serves its downloads by their own routes only, never as job files", async () => {
    const video = await privateVideo();
    const token = await mint(video.up, { downloadable: true });
    for (const file of ["download.mp4", "audio.m4a"]) {
      const res = await api(`/videos/${video.up.videoId}/${video.jobId}/${file}?token=${token}`);
      expect(res.status, file).toBe(404);
    }
    await setVisibility(video.up, "public");
    expect((await api(`/videos/${video.up.videoId}/${video.jobId}/download.mp4`)).status).toBe(404);
  });

  it("downloads only with a token that allows them", async () => {
    const video = await privateVideo();
    const url = `/videos/${video.up.videoId}/download.mp4`;
    const playOnly = await api(withToken(url, await mint(video.up)));
    expect(playOnly.status).toBe(403);
    expect((await json(playOnly)).error.code).toBe("playback_token_invalid");
    expect((await api(withToken(url, await mint(video.up, { downloadable: true })))).status).toBe(200);
  });

  it("is described to its owner with playback URLs that carry a fresh token, and to a token's holder", async () => {
    const video = await privateVideo();
    const id = video.up.videoId;
    const anonymous = await api(`/api/videos/${id}`);
    expect(anonymous.status).toBe(401);
    expect((await json(anonymous)).error.code).toBe("playback_token_required");
    const owned = await json(await api(`/api/videos/${id}`, { headers: auth(video.up) }));
    expect(owned.visibility).toBe("private");
    const ownerHls = new URL(owned.playback.hls, "http://x");
    expect(ownerHls.pathname).toBe(`/videos/${id}/master.m3u8`);
    expect((await api(ownerHls.pathname + ownerHls.search)).status).toBe(200);
    const token = await mint(video.up);
    const held = await json(await api(`/api/videos/${id}?token=${token}`));
    expect(held.playback.hls).toBe(`/videos/${id}/master.m3u8?token=${token}`);
    expect(held.playback.thumbnail).toBe(`/videos/${id}/thumbnail.jpg?token=${token}`);
    expect((await api(`/api/videos/${id}?token=x${token}`)).status).toBe(403);
  });

  it("is never listed or found", async () => {
    const video = await privateVideo();
    const listed = await json(await api("/api/videos?limit=100"));
    expect(listed.items.map((v: { id: string }) => v.id)).not.toContain(video.up.videoId);
    const found = await json(await api("/api/videos?q=Members"));
    expect(found.items.map((v: { id: string }) => v.id)).not.toContain(video.up.videoId);
    const byCaption = await json(await api("/api/videos?q=Hello"));
    expect(byCaption.items.map((v: { id: string }) => v.id)).not.toContain(video.up.videoId);
  });

  it("stops playing unsigned at once when made private, and plays unsigned at once when made public", async () => {
    const video = await privateVideo();
    const master = `/videos/${video.up.videoId}/master.m3u8`;
    const segment = `/videos/${video.up.videoId}/${video.jobId}/source/seg_00001.m4s`;
    await setVisibility(video.up, "public");
    expect((await api(master)).status).toBe(200);
    const served = await api(segment);
    expect(served.status).toBe(200);
    // Public media keep their year-long, shared caching.
    expect(served.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    await setVisibility(video.up, "private");
    expect((await api(master)).status).toBe(401);
    expect((await api(segment)).status).toBe(401);
  });
});

describe("POST /api/videos/:id/playback-tokens", () => {
  it("is the owner's: 401 without the upload token", async () => {
    const video = await privateVideo();
    const res = await api(`/api/videos/${video.up.videoId}/playback-tokens`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(res.status).toBe(401);
  });

  it("answers the token, its expiry and the URLs that carry it; an hour by default, a week at most", async () => {
    const video = await privateVideo();
    const id = video.up.videoId;
    const before = Date.now();
    const res = await api(`/api/videos/${id}/playback-tokens`, {
      method: "POST",
      headers: { ...auth(video.up), "content-type": "application/json" },
      body: "{}",
    });
    expect(res.status).toBe(201);
    const body = await json(res);
    expect(body.token).toMatch(/^\d+\.p\.1\.[A-Za-z0-9_-]{43}$/);
    expect(Date.parse(body.expiresAt) - before).toBeGreaterThan(3590_000);
    expect(Date.parse(body.expiresAt) - before).toBeLessThanOrEqual(3601_000);
    expect(body.hls).toBe(`/videos/${id}/master.m3u8?token=${body.token}`);
    expect(body.poster).toMatch(new RegExp(`^/videos/${id}/j[0-9a-z]+/.+\\?token=`));
    expect(body.embed).toBe(`/embed/${id}?token=${body.token}`);
    for (const expiresInSeconds of [59, 7 * 24 * 3600 + 1]) {
      const refused = await api(`/api/videos/${id}/playback-tokens`, {
        method: "POST",
        headers: { ...auth(video.up), "content-type": "application/json" },
        body: JSON.stringify({ expiresInSeconds }),
      });
      expect(refused.status, String(expiresInSeconds)).toBe(400);
    }
  });
});

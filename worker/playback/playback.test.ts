// Every playback route honours the README's promises: `Range`, `ETag` /
// `If-None-Match`, `HEAD` and the exact `Cache-Control`, both while the ladder
// is still growing and once it is final. The video is driven through the real
// internal routes, as the transcoder drives it.
import { describe, expect, it } from "vitest";
import { env, exports } from "cloudflare:workers";
import { jobFileKey, newVideoId } from "../storage/keys.ts";
import { api, auth, bytes, json, sha256, type Created } from "../testing/helpers.ts";
import { event, metadata, processingVideo, publishPlayable, put, type Job } from "../testing/processing.ts";

const YEAR = "public, max-age=31536000";
const YEAR_IMMUTABLE = "public, max-age=31536000, immutable";
const text = (s: string) => new TextEncoder().encode(s);

const AUDIO_TRACK = (prefix: string) =>
  `#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="English",DEFAULT=YES,URI="${prefix}audio_0/index.m3u8"\n`;
const FINAL_MASTER =
  "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-STREAM-INF:BANDWIDTH=2000000,RESOLUTION=1280x720\nsource/index.m3u8\n" +
  AUDIO_TRACK("") +
  '#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360,AUDIO="audio"\n360p/index.m3u8\n';

type Stage = "growing" | "final";
type Played = { up: Created; file: Uint8Array; job: Job };

/** A video as players see it: playable on its first rendition, or with its final ladder published. */
async function playableVideo(stage: Stage): Promise<Played> {
  const played = await processingVideo({ title: "Harbour at dawn" });
  await publishPlayable(played.job);
  if (stage === "final") {
    expect((await put(played.job, "master.m3u8", FINAL_MASTER)).status).toBe(204);
    expect((await event(played.job, { type: "completed", metadata })).status).toBe(200);
  }
  return played;
}

type Route = {
  name: string;
  path: (v: Played) => string;
  headers?: (v: Played) => Record<string, string>;
  contentType: string;
  cacheControl: Record<Stage, string>;
  body: (v: Played, stage: Stage) => Uint8Array;
};

const ROUTES: Route[] = [
  {
    name: "master playlist",
    path: (v) => `/videos/${v.up.videoId}/master.m3u8`,
    contentType: "application/vnd.apple.mpegurl",
    cacheControl: { growing: "public, max-age=2", final: "public, max-age=300" },
    // Variant and audio-track URIs carry the job id, so everything below the master is immutable.
    body: (v, stage) =>
      text(
        stage === "growing"
          ? `#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-STREAM-INF:BANDWIDTH=2000000,RESOLUTION=1280x720\n${v.job.jobId}/source/index.m3u8\n`
          : `#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-STREAM-INF:BANDWIDTH=2000000,RESOLUTION=1280x720\n${v.job.jobId}/source/index.m3u8\n` +
              AUDIO_TRACK(`${v.job.jobId}/`) +
              `#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360,AUDIO="audio"\n${v.job.jobId}/360p/index.m3u8\n`,
      ),
  },
  {
    name: "rendition playlist",
    path: (v) => `/videos/${v.up.videoId}/${v.job.jobId}/source/index.m3u8`,
    contentType: "application/vnd.apple.mpegurl",
    // Step 1's playlists grow as the transcoder writes them, until the ladder is final.
    cacheControl: { growing: "public, max-age=2", final: YEAR },
    body: () => text("#EXTM3U\n#EXTINF:4.0,\nseg_00001.m4s\n#EXT-X-ENDLIST\n"),
  },
  {
    name: "init segment",
    path: (v) => `/videos/${v.up.videoId}/${v.job.jobId}/source/init.mp4`,
    contentType: "video/mp4",
    cacheControl: { growing: YEAR_IMMUTABLE, final: YEAR_IMMUTABLE },
    body: () => bytes(1000, 1),
  },
  {
    name: "media segment",
    path: (v) => `/videos/${v.up.videoId}/${v.job.jobId}/source/seg_00001.m4s`,
    contentType: "video/mp4",
    cacheControl: { growing: YEAR_IMMUTABLE, final: YEAR_IMMUTABLE },
    body: () => bytes(5000, 2),
  },
  {
    name: "poster of the job",
    path: (v) => `/videos/${v.up.videoId}/${v.job.jobId}/poster.jpg`,
    contentType: "image/jpeg",
    cacheControl: { growing: YEAR_IMMUTABLE, final: YEAR_IMMUTABLE },
    body: () => bytes(300, 3),
  },
  {
    // The alias follows the current job, so it may change: five minutes only.
    name: "poster alias",
    path: (v) => `/videos/${v.up.videoId}/poster.jpg`,
    contentType: "image/jpeg",
    cacheControl: { growing: "public, max-age=300", final: "public, max-age=300" },
    body: () => bytes(300, 3),
  },
  {
    name: "owner's source download",
    path: (v) => `/api/videos/${v.up.videoId}/source`,
    headers: (v) => auth(v.up),
    contentType: "video/mp4",
    cacheControl: { growing: "private, no-store", final: "private, no-store" },
    body: (v) => v.file,
  },
];

const headersOf = (res: Response) => Object.fromEntries(res.headers);

describe("playback routes", () => {
  it.each(["growing", "final"] as const)(
    "answer HEAD, If-None-Match, Range and Cache-Control as documented while the ladder is %s",
    async (stage) => {
      const v = await playableVideo(stage);
      for (const route of ROUTES) {
        const path = route.path(v);
        const get = (headers: Record<string, string> = {}, method = "GET") =>
          api(path, { method, headers: { ...route.headers?.(v), ...headers } });
        const body = route.body(v, stage);
        const label = `${route.name} (${stage})`;

        const full = await get();
        const etag = full.headers.get("etag");
        expect({ label, status: full.status, etag: typeof etag, headers: headersOf(full) }).toMatchObject({
          label,
          status: 200,
          etag: "string",
          headers: {
            "content-type": route.contentType,
            "cache-control": route.cacheControl[stage],
            "content-length": String(body.length),
            "accept-ranges": "bytes",
          },
        });
        // Digests, not bytes: a deep comparison of the 6 MiB source takes seconds.
        expect({ label, body: await sha256(await full.arrayBuffer()) }).toEqual({ label, body: await sha256(body) });

        const head = await get({}, "HEAD");
        expect({
          label,
          status: head.status,
          headers: headersOf(head),
          body: (await head.arrayBuffer()).byteLength,
        }).toEqual({
          label,
          status: 200,
          headers: headersOf(full),
          body: 0,
        });

        const notModified = await get({ "if-none-match": etag! });
        expect({
          label,
          status: notModified.status,
          etag: notModified.headers.get("etag"),
          cache: notModified.headers.get("cache-control"),
          body: (await notModified.arrayBuffer()).byteLength,
        }).toEqual({ label, status: 304, etag, cache: route.cacheControl[stage], body: 0 });
        const otherVersion = await get({ "if-none-match": '"some-other-version"' });
        expect({ label, status: otherVersion.status, length: otherVersion.headers.get("content-length") }).toEqual({
          label,
          status: 200,
          length: String(body.length),
        });
        await otherVersion.body?.cancel();

        const partial = await get({ range: "bytes=3-9" });
        expect({
          label,
          status: partial.status,
          contentRange: partial.headers.get("content-range"),
          length: partial.headers.get("content-length"),
          cache: partial.headers.get("cache-control"),
          body: new Uint8Array(await partial.arrayBuffer()),
        }).toEqual({
          label,
          status: 206,
          contentRange: `bytes 3-9/${body.length}`,
          length: "7",
          cache: route.cacheControl[stage],
          body: body.subarray(3, 10),
        });
        const tail = await get({ range: "bytes=-4" });
        expect({ label, status: tail.status, body: new Uint8Array(await tail.arrayBuffer()) }).toEqual({
          label,
          status: 206,
          body: body.subarray(body.length - 4),
        });

        // RFC 9110 §14.4: a 416 names the size, so the client can ask for a range that exists.
        const outside = await get({ range: `bytes=${body.length}-` });
        expect({
          label,
          status: outside.status,
          contentRange: outside.headers.get("content-range"),
          body: await json(outside),
        }).toMatchObject({
          label,
          status: 416,
          contentRange: `bytes */${body.length}`,
          body: { error: { code: "range_not_satisfiable", message: expect.any(String), size: body.length } },
        });
      }
    },
  );

  it("gives the master playlist a new ETag when the ladder becomes final, so caches do not keep the short ladder", async () => {
    const { up, job } = await playableVideo("growing");
    const growing = (await api(`/videos/${up.videoId}/master.m3u8`)).headers.get("etag")!;
    expect((await api(`/videos/${up.videoId}/master.m3u8`, { headers: { "if-none-match": growing } })).status).toBe(
      304,
    );
    expect((await put(job, "master.m3u8", FINAL_MASTER)).status).toBe(204);
    expect((await event(job, { type: "completed", metadata })).status).toBe(200);
    const revalidated = await api(`/videos/${up.videoId}/master.m3u8`, { headers: { "if-none-match": growing } });
    expect(revalidated.status).toBe(200);
    expect(revalidated.headers.get("etag")).not.toBe(growing);
    expect(new TextDecoder().decode(await revalidated.arrayBuffer())).toContain(`\n${job.jobId}/360p/index.m3u8\n`);
  });
  it("serves each alternate audio rendition from the playback job, so a player can switch tracks", async () => {
    const { up, job } = await playableVideo("growing");
    const master =
      "#EXTM3U\n#EXT-X-VERSION:7\n" +
      '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="English",LANGUAGE="en",DEFAULT=YES,AUTOSELECT=YES,URI="audio_0/index.m3u8"\n' +
      '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="Français",LANGUAGE="fr",DEFAULT=NO,AUTOSELECT=YES,URI="audio_1/index.m3u8"\n' +
      '#EXT-X-STREAM-INF:BANDWIDTH=2000000,RESOLUTION=1280x720,AUDIO="audio"\nsource/index.m3u8\n';
    expect((await put(job, "master.m3u8", master)).status).toBe(204);
    expect((await put(job, "audio_1/index.m3u8", "#EXTM3U\n#EXTINF:4.0,\nseg_00001.m4s\n")).status).toBe(204);
    expect((await put(job, "audio_1/seg_00001.m4s", bytes(700, 9))).status).toBe(204);

    const served = new TextDecoder().decode(await (await api(`/videos/${up.videoId}/master.m3u8`)).arrayBuffer());
    const uris = [...served.matchAll(/URI="([^"]+)"/g)].map((m) => m[1]);
    expect(uris).toEqual([`${job.jobId}/audio_0/index.m3u8`, `${job.jobId}/audio_1/index.m3u8`]);
    const playlist = await api(`/videos/${up.videoId}/${uris[1]}`);
    expect(playlist.status).toBe(200);
    expect(playlist.headers.get("content-type")).toBe("application/vnd.apple.mpegurl");
    const segment = await api(`/videos/${up.videoId}/${job.jobId}/audio_1/seg_00001.m4s`);
    expect(new Uint8Array(await segment.arrayBuffer())).toEqual(bytes(700, 9));
  });
});

describe("playback errors", () => {
  it("answers 409 not_ready with the video's status before it is playable", async () => {
    const { up } = await processingVideo({ title: "Not yet" });
    for (const method of ["GET", "HEAD"]) {
      const res = await api(`/videos/${up.videoId}/master.m3u8`, { method });
      expect({ method, status: res.status }).toEqual({ method, status: 409 });
    }
    const res = await api(`/videos/${up.videoId}/master.m3u8`);
    expect(await json(res)).toEqual({
      error: { code: "not_ready", message: expect.any(String), status: "processing" },
    });
    const alias = await api(`/videos/${up.videoId}/poster.jpg`);
    expect({ status: alias.status, body: await json(alias) }).toMatchObject({
      status: 404,
      body: { error: { code: "not_found" } },
    });
  });

  it("answers 404 not_found for unknown videos, jobs, renditions and file names", async () => {
    const v = await playableVideo("growing");
    const otherJob = "j".padEnd(v.job.jobId.length, "0");
    const unknown = newVideoId();
    const paths = [
      `/videos/${unknown}/master.m3u8`,
      "/videos/not-a-video-id/master.m3u8",
      `/videos/${unknown}/poster.jpg`,
      `/videos/${v.up.videoId}/${v.job.jobId}/720p/index.m3u8`,
      `/videos/${v.up.videoId}/${v.job.jobId}/source/seg_00002.m4s`,
      `/videos/${v.up.videoId}/${v.job.jobId}/source/..%2F..%2Fsource`,
      `/videos/${v.up.videoId}/${v.job.jobId}/source/notes.txt`,
      `/videos/${v.up.videoId}/${otherJob}/poster.jpg`,
      `/videos/${v.up.videoId}/not-a-job/poster.jpg`,
      // Malformed percent-encoding names no file.
      `/videos/${v.up.videoId}/${v.job.jobId}/%`,
      `/videos/${v.up.videoId}/${v.job.jobId}/source/%zz`,
      `/videos/${v.up.videoId}/${v.job.jobId}/source/seg_%E0%A4%A.m4s`,
      `/videos/${v.up.videoId}/${v.job.jobId}/%C0%AF`,
    ];
    for (const path of paths) {
      const res = await api(path);
      expect({ path, status: res.status, body: await json(res) }).toMatchObject({
        path,
        status: 404,
        body: { error: { code: "not_found", message: expect.any(String) } },
      });
    }
  });
});

describe("who may keep and see playback", () => {
  const MEDIA = ROUTES.filter((r) => r.name !== "owner's source download");

  it("caches an unlisted video's master, playlists, segments and posters privately, so no shared cache keeps them", async () => {
    for (const stage of ["growing", "final"] as const) {
      const v = await playableVideo(stage);
      const patched = await api(`/api/videos/${v.up.videoId}`, {
        method: "PATCH",
        headers: { ...auth(v.up), "content-type": "application/json" },
        body: JSON.stringify({ visibility: "unlisted" }),
      });
      expect(patched.status).toBe(200);
      for (const route of MEDIA) {
        const label = `${route.name} (${stage})`;
        for (const headers of [{}, { range: "bytes=0-1" }] as Record<string, string>[]) {
          const res = await api(route.path(v), { headers });
          const cache = res.headers.get("cache-control") ?? "";
          expect({
            label,
            status: res.status,
            private: cache.includes("private"),
            public: cache.includes("public"),
          }).toEqual({ label, status: Object.keys(headers).length ? 206 : 200, private: true, public: false });
          expect(cache, label).toMatch(/max-age=\d+/);
          await res.body?.cancel();
        }
      }
    }
  });

  it("serves none of a deleted video's media, not even a file left behind in R2", async () => {
    const v = await playableVideo("final");
    const segment = `/videos/${v.up.videoId}/${v.job.jobId}/source/seg_00001.m4s`;
    expect((await api(segment)).status).toBe(200);
    expect((await api(`/api/videos/${v.up.videoId}`, { method: "DELETE", headers: auth(v.up) })).status).toBe(204);
    // As if the sweep had missed them: the objects are back in the bucket.
    for (const file of ["source/seg_00001.m4s", "master.m3u8", "poster.jpg"])
      await env.VIDEOS.put(jobFileKey(v.up.videoId, v.job.jobId, file), bytes(5000, 2));
    for (const route of MEDIA) {
      const res = await api(route.path(v));
      expect({ route: route.name, status: res.status, body: await json(res) }).toMatchObject({
        route: route.name,
        status: 404,
        body: { error: { code: "not_found" } },
      });
    }
  });

  it("serves only the playback job's files, not those of another job left in R2", async () => {
    const v = await playableVideo("final");
    const otherJob = "j9zzzzzzzzzz";
    await env.VIDEOS.put(jobFileKey(v.up.videoId, otherJob, "source/seg_00001.m4s"), bytes(5000, 2));
    const res = await api(`/videos/${v.up.videoId}/${otherJob}/source/seg_00001.m4s`);
    expect({ status: res.status, body: await json(res) }).toMatchObject({
      status: 404,
      body: { error: { code: "not_found" } },
    });
  });

  it("names no host in playback URLs, whatever Host the request carries", async () => {
    const v = await playableVideo("final");
    const hostile = (path: string, init: RequestInit = {}) =>
      exports.default.fetch(
        new Request(`http://evil.example${path}`, {
          ...init,
          headers: { host: "evil.example", ...init.headers },
        }),
      );
    const answers = {
      video: await hostile(`/api/videos/${v.up.videoId}`),
      listed: await hostile(`/api/videos?q=${encodeURIComponent("Harbour at dawn")}&limit=100`),
      patched: await hostile(`/api/videos/${v.up.videoId}`, {
        method: "PATCH",
        headers: { ...auth(v.up), "content-type": "application/json" },
        body: JSON.stringify({ title: "Harbour at dawn" }),
      }),
    };
    for (const [name, res] of Object.entries(answers)) {
      const text = await res.text();
      expect({ name, status: res.status, leaks: text.includes("evil.example") }).toEqual({
        name,
        status: 200,
        leaks: false,
      });
      const body = JSON.parse(text);
      const video = name === "listed" ? body.items.find((i: { id: string }) => i.id === v.up.videoId) : body;
      // Every URL root-relative; the ones this video has not (frames, downloads) null.
      expect(video.playback).toEqual({
        hls: `/videos/${v.up.videoId}/master.m3u8`,
        poster: `/videos/${v.up.videoId}/${v.job.jobId}/poster.jpg`,
        thumbnail: null,
        storyboard: null,
        download: null,
        audioDownload: null,
      });
    }
  });
});

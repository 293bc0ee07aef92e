// Caption tracks through the API and as players fetch them: an owner stores
// WebVTT or SRT per language, replaces and removes tracks; a malformed or
// oversized file is refused with the line or the cap; the master playlist
// names every track and its cache follows them; deleting the video takes
// its tracks along. Videos are driven through the real routes.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { MAX_CAPTION_BYTES } from "../contracts/captions.ts";
import { api, auth, createUpload, type Created, json } from "../testing/helpers.ts";
import { event, metadata, processingVideo, publishPlayable } from "../testing/processing.ts";

const SRT =
  "1\n00:00:01,000 --> 00:00:04,000\nAhoy, <i>sailors</i>!\n\n2\n00:00:05,000 --> 00:00:07,500\nMind the gap\n";
const VTT = "WEBVTT\n\n00:00:01.000 --> 00:00:03.000 align:start\nBonjour à tous\n";

const putCaptions = (
  up: Pick<Created, "videoId" | "uploadToken">,
  lang: string,
  body: BodyInit,
  contentType?: string,
  query = "",
) =>
  api(`/api/videos/${up.videoId}/captions/${lang}${query}`, {
    method: "PUT",
    headers: { ...auth(up), ...(contentType ? { "content-type": contentType } : {}) },
    body,
  });

const listCaptions = async (videoId: string) => {
  const res = await api(`/api/videos/${videoId}/captions`);
  expect(res.status).toBe(200);
  return json<{ tracks: { lang: string; label: string; cues: number; bytes: number }[] }>(res);
};

/** A video whose whole ladder is published, as players find it. */
async function finalVideo(title = "Harbour at dawn") {
  const played = await processingVideo({ title });
  await publishPlayable(played.job);
  expect((await event(played.job, { type: "completed", metadata })).status).toBe(200);
  return played;
}

describe("storing caption tracks", () => {
  it("stores an SRT as WebVTT, answers the track, and lists it", async () => {
    const up = await createUpload({ size: 1000 });
    const res = await putCaptions(up, "en", SRT, "application/x-subrip");
    expect(res.status).toBe(201);
    const track = await json(res);
    const stored = await env.VIDEOS.get(`videos/${up.videoId}/captions/en.vtt`);
    const vtt = await stored!.text();
    expect(vtt).toBe(
      "WEBVTT\n\n1\n00:00:01.000 --> 00:00:04.000\nAhoy, <i>sailors</i>!\n\n2\n00:00:05.000 --> 00:00:07.500\nMind the gap\n",
    );
    expect(track).toEqual({
      lang: "en",
      label: "English",
      cues: 2,
      bytes: new TextEncoder().encode(vtt).length,
      updatedAt: expect.any(String),
      vtt: `/videos/${up.videoId}/captions/en.vtt`,
      playlist: `/videos/${up.videoId}/captions/en.m3u8`,
    });
    expect(await listCaptions(up.videoId)).toEqual({ tracks: [track] });
  });

  it("tells WebVTT by its content under a generic type, and names a language in its canonical case", async () => {
    const up = await createUpload({ size: 1000 });
    const res = await putCaptions(up, "PT-br", VTT, "text/plain");
    expect(res.status).toBe(201);
    expect(await json(res)).toMatchObject({ lang: "pt-BR", label: "Português (Brasil)", cues: 1 });
    // One track per language whatever its case, under a lower-case key.
    expect((await putCaptions(up, "pt-BR", VTT, undefined, "?label=Legendas")).status).toBe(200);
    expect((await listCaptions(up.videoId)).tracks.map((t) => [t.lang, t.label])).toEqual([["pt-BR", "Legendas"]]);
    expect(await env.VIDEOS.head(`videos/${up.videoId}/captions/pt-br.vtt`)).not.toBeNull();
  });

  it("replaces a language's track, and keeps the tracks of other languages", async () => {
    const up = await createUpload({ size: 1000 });
    expect((await putCaptions(up, "en", SRT, "text/srt")).status).toBe(201);
    expect((await putCaptions(up, "fr", VTT, "text/vtt")).status).toBe(201);
    const replaced = await putCaptions(up, "en", "WEBVTT\n\n00:00.000 --> 00:01.000\nOnly this\n", "text/vtt");
    expect(replaced.status).toBe(200);
    expect((await listCaptions(up.videoId)).tracks.map((t) => [t.lang, t.cues])).toEqual([
      ["en", 1],
      ["fr", 1],
    ]);
    expect(await (await env.VIDEOS.get(`videos/${up.videoId}/captions/en.vtt`))!.text()).toContain("Only this");
  });

  it("refuses a malformed file with invalid_captions naming the line, and keeps the track it had", async () => {
    const up = await createUpload({ size: 1000 });
    expect((await putCaptions(up, "en", SRT, "application/x-subrip")).status).toBe(201);
    const broken = `${SRT}\n3\n00:00:08,000 -> 00:00:09,000\nOops\n`;
    const res = await putCaptions(up, "en", broken, "application/x-subrip");
    expect(res.status).toBe(400);
    expect(await json(res)).toEqual({
      error: {
        code: "invalid_captions",
        message: "line 10: expected an SRT timing line like 00:00:01,000 --> 00:00:04,000",
        line: 10,
      },
    });
    const asVtt = await putCaptions(up, "en", SRT, "text/vtt");
    expect(await json(asVtt)).toMatchObject({ error: { code: "invalid_captions", line: 1 } });
    expect((await listCaptions(up.videoId)).tracks.map((t) => t.cues)).toEqual([2]);
  });

  it("takes a file of exactly 5 MiB and refuses one byte more with 413 naming the cap, also when streamed", async () => {
    const up = await createUpload({ size: 1000 });
    // Some 90,000 cues: the cues reach D1 in a few statements of one batch.
    const cues: string[] = [];
    for (let i = 0; i < 90_000; i++) cues.push(`${stamp(i)} --> ${stamp(i + 1)}\nword${i}\n`);
    const body = `WEBVTT\n\n${cues.join("\n")}\nNOTE `;
    const full = body + "x".repeat(MAX_CAPTION_BYTES - body.length);
    expect(full.length).toBe(MAX_CAPTION_BYTES);
    const taken = await putCaptions(up, "en", full, "text/vtt");
    expect(taken.status).toBe(201);
    expect(await json(taken)).toMatchObject({ cues: 90_000 });
    const rows = await env.DB.prepare("SELECT count(*) AS n FROM caption_cues WHERE video_id = ?")
      .bind(up.videoId)
      .first<{ n: number }>();
    expect(rows!.n).toBe(90_000);

    const over = `${full}x`;
    const streamed = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(over));
        controller.close();
      },
    });
    for (const sent of [over, streamed]) {
      const res = await putCaptions(up, "de", sent, "text/vtt");
      expect(res.status).toBe(413);
      expect(await json(res)).toMatchObject({
        error: { code: "payload_too_large", message: expect.stringContaining("5 MiB") },
      });
    }
    expect((await listCaptions(up.videoId)).tracks.map((t) => t.lang)).toEqual(["en"]);
  });

  it("lets only the owner store or remove a track; anyone lists them", async () => {
    const up = await createUpload({ size: 1000 });
    const other = await createUpload({ size: 1000 });
    const noToken = await api(`/api/videos/${up.videoId}/captions/en`, { method: "PUT", body: SRT });
    expect(await json(noToken)).toMatchObject({ error: { code: "missing_token" } });
    expect(noToken.status).toBe(401);
    for (const method of ["PUT", "DELETE"]) {
      const res = await api(`/api/videos/${up.videoId}/captions/en`, { method, headers: auth(other), body: SRT });
      expect({ method, status: res.status, code: (await json(res)).error.code }).toEqual({
        method,
        status: 401,
        code: "invalid_token",
      });
    }
    expect(await listCaptions(up.videoId)).toEqual({ tracks: [] });
    expect((await api("/api/videos/0000000000000000000z/captions")).status).toBe(404);
  });

  it("refuses a language that is not a BCP 47 tag and a label a playlist cannot hold", async () => {
    const up = await createUpload({ size: 1000 });
    for (const lang of ["english!", "e", "en_US", "123", "en-", `en-${"a".repeat(40)}`]) {
      const res = await putCaptions(up, encodeURIComponent(lang), SRT, "text/srt");
      expect({ lang, status: res.status, code: (await json(res)).error.code }).toEqual({
        lang,
        status: 400,
        code: "invalid_request",
      });
    }
    const quoted = await putCaptions(up, "en", SRT, "text/srt", `?label=${encodeURIComponent('Say "hi"')}`);
    expect(await json(quoted)).toMatchObject({ error: { code: "invalid_request" } });
  });

  it("removes a track with its file, and answers 404 for a language without one", async () => {
    const up = await createUpload({ size: 1000 });
    expect((await putCaptions(up, "en", SRT, "text/srt")).status).toBe(201);
    const del = () => api(`/api/videos/${up.videoId}/captions/en`, { method: "DELETE", headers: auth(up) });
    expect((await del()).status).toBe(204);
    expect(await listCaptions(up.videoId)).toEqual({ tracks: [] });
    expect(await env.VIDEOS.head(`videos/${up.videoId}/captions/en.vtt`)).toBeNull();
    const again = await del();
    expect(again.status).toBe(404);
    expect(await json(again)).toMatchObject({ error: { code: "not_found" } });
  });
});

describe("caption tracks as players fetch them", () => {
  it("names every track in the master playlist, whose ETag changes with them while it stays final", async () => {
    const { up, job } = await finalVideo();
    const master = () => api(`/videos/${up.videoId}/master.m3u8`);
    const before = await master();
    const etag = before.headers.get("etag")!;
    expect(await before.text()).not.toContain("SUBTITLES");
    expect(before.headers.get("cache-control")).toBe("public, max-age=300");

    expect((await putCaptions(up, "en", SRT, "text/srt")).status).toBe(201);
    expect((await putCaptions(up, "fr", VTT, "text/vtt", "?label=Fran%C3%A7ais")).status).toBe(201);
    const after = await api(`/videos/${up.videoId}/master.m3u8`, { headers: { "if-none-match": etag } });
    expect(after.status).toBe(200);
    expect(after.headers.get("etag")).not.toBe(etag);
    expect((await after.text()).split("\n")).toEqual([
      "#EXTM3U",
      "#EXT-X-VERSION:7",
      `#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="English",LANGUAGE="en",DEFAULT=NO,AUTOSELECT=YES,URI="/videos/${up.videoId}/captions/en.m3u8"`,
      `#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="Français",LANGUAGE="fr",DEFAULT=NO,AUTOSELECT=YES,URI="/videos/${up.videoId}/captions/fr.m3u8"`,
      '#EXT-X-STREAM-INF:BANDWIDTH=2000000,RESOLUTION=1280x720,SUBTITLES="subs"',
      `${job.jobId}/source/index.m3u8`,
      "",
    ]);
    // A cached copy is current until the tracks change again.
    const current = (await master()).headers.get("etag")!;
    expect((await api(`/videos/${up.videoId}/master.m3u8`, { headers: { "if-none-match": current } })).status).toBe(
      304,
    );
    await api(`/api/videos/${up.videoId}/captions/fr`, { method: "DELETE", headers: auth(up) });
    const removed = await master();
    expect(removed.headers.get("etag")).not.toBe(current);
    expect(await removed.text()).not.toContain('LANGUAGE="fr"');
  });

  it("serves each track as a one-segment WebVTT playlist as long as the video, and the file with its timestamp map", async () => {
    const { up } = await finalVideo();
    expect((await putCaptions(up, "pt-BR", SRT, "text/srt")).status).toBe(201);
    const playlist = await api(`/videos/${up.videoId}/captions/pt-BR.m3u8`);
    expect(playlist.status).toBe(200);
    expect(playlist.headers.get("content-type")).toBe("application/vnd.apple.mpegurl");
    expect(playlist.headers.get("cache-control")).toBe("public, max-age=300");
    // metadata.durationSec is 9.5.
    expect(await playlist.text()).toBe(
      "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:10\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:9.500,\npt-BR.vtt\n#EXT-X-ENDLIST\n",
    );
    const vtt = await api(`/videos/${up.videoId}/captions/pt-br.vtt`);
    expect(vtt.status).toBe(200);
    expect(vtt.headers.get("content-type")).toBe("text/vtt; charset=utf-8");
    // 30 fps: the source's first frame is two frames, 6000 ticks of 90 kHz, into the segments.
    expect((await vtt.text()).split("\n").slice(0, 4)).toEqual([
      "WEBVTT",
      "X-TIMESTAMP-MAP=MPEGTS:6000,LOCAL:00:00:00.000",
      "",
      "1",
    ]);
    const etag = vtt.headers.get("etag")!;
    const revalidated = await api(`/videos/${up.videoId}/captions/pt-BR.vtt`, { headers: { "if-none-match": etag } });
    expect(revalidated.status).toBe(304);
    const ranged = await api(`/videos/${up.videoId}/captions/pt-BR.vtt`, { headers: { range: "bytes=0-5" } });
    expect({ status: ranged.status, body: await ranged.text() }).toEqual({ status: 206, body: "WEBVTT" });

    for (const missing of ["de.vtt", "de.m3u8", "pt-BR.srt", "not_a_lang.vtt"]) {
      const res = await api(`/videos/${up.videoId}/captions/${missing}`);
      expect({ missing, status: res.status, code: (await json(res)).error.code }).toEqual({
        missing,
        status: 404,
        code: "not_found",
      });
    }
  });

  it("caches an unlisted video's tracks and master privately", async () => {
    const { up } = await finalVideo();
    expect((await putCaptions(up, "en", SRT, "text/srt")).status).toBe(201);
    const patch = await api(`/api/videos/${up.videoId}`, {
      method: "PATCH",
      headers: { ...auth(up), "content-type": "application/json" },
      body: JSON.stringify({ visibility: "unlisted" }),
    });
    expect(patch.status).toBe(200);
    for (const path of ["master.m3u8", "captions/en.m3u8", "captions/en.vtt"]) {
      const res = await api(`/videos/${up.videoId}/${path}`);
      expect({ path, cacheControl: res.headers.get("cache-control") }).toEqual({
        path,
        cacheControl: "private, max-age=300",
      });
    }
  });

  it("goes with its video: deleting the video removes its tracks, cues and files", async () => {
    const { up } = await finalVideo();
    expect((await putCaptions(up, "en", SRT, "text/srt")).status).toBe(201);
    expect((await api(`/api/videos/${up.videoId}`, { method: "DELETE", headers: auth(up) })).status).toBe(204);
    const count = async (table: string) =>
      (await env.DB.prepare(`SELECT count(*) AS n FROM ${table} WHERE video_id = ?`)
        .bind(up.videoId)
        .first<{ n: number }>())!.n;
    expect({ captions: await count("captions"), cues: await count("caption_cues") }).toEqual({ captions: 0, cues: 0 });
    expect((await env.VIDEOS.list({ prefix: `videos/${up.videoId}/captions/` })).objects).toEqual([]);
    expect((await api(`/videos/${up.videoId}/captions/en.vtt`)).status).toBe(404);
    await env.DB.prepare("INSERT INTO caption_cues_fts (caption_cues_fts) VALUES ('integrity-check')").run();
  });
});

/** `hh:mm:ss.mmm` of `i` tenths of a second. */
function stamp(i: number): string {
  const ms = i * 100;
  const pad = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${pad(Math.floor(ms / 3_600_000))}:${pad(Math.floor(ms / 60_000) % 60)}:${pad(Math.floor(ms / 1000) % 60)}.${pad(ms % 1000, 3)}`;
}

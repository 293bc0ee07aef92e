// oEmbed as a CMS or chat app asks for it: a public video's watch or embed
// link becomes an iframe of the embed page, sized to the video; unlisted and
// private videos, other sites' links and anything else answer 404.
import { describe, expect, it } from "vitest";
import { api, auth, BASE, json } from "../testing/helpers.ts";
import { event, metadata, processingVideo, publishPlayable } from "../testing/processing.ts";
import { embedSize } from "../contracts/embed.ts";

const oembed = (url: string, query = "") => api(`/api/oembed?url=${encodeURIComponent(url)}${query}`);

/** A public video processed into a 1280×720 ladder (testing/processing.ts `metadata`). */
async function playable(fields: Record<string, unknown> = {}) {
  const { up, job } = await processingVideo({ title: `Harbour "at" <dawn>`, ...fields });
  await publishPlayable(job);
  const ladder = { ...metadata, renditions: [{ ...metadata.renditions[0]!, name: "720p" }] };
  expect((await event(job, { type: "completed", metadata: ladder })).status).toBe(200);
  return up;
}

describe("GET /api/oembed", () => {
  it("answers a video oEmbed with an iframe of the embed page for a public video's watch link", async () => {
    const up = await playable();
    const res = await oembed(`${BASE}/watch/${up.videoId}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/json");
    const body = await json(res);
    expect(body).toMatchObject({
      version: "1.0",
      type: "video",
      provider_name: "Reelay",
      provider_url: `${BASE}/`,
      title: `Harbour "at" <dawn>`,
      width: 640,
      height: 360,
      thumbnail_url: expect.stringMatching(new RegExp(`^${BASE}/videos/${up.videoId}/j[0-9a-z]+/poster\\.jpg$`)),
      thumbnail_width: 1280,
      thumbnail_height: 720,
    });
    expect(body.html).toBe(
      `<iframe src="${BASE}/embed/${up.videoId}" width="640" height="360" title="Harbour &quot;at&quot; &lt;dawn&gt;" ` +
        'frameborder="0" allow="autoplay; fullscreen; picture-in-picture" allowfullscreen></iframe>',
    );
    // The embed link names the same video.
    expect(await json(await oembed(`${BASE}/embed/${up.videoId}`))).toEqual(body);
  });

  it("fits the player within maxwidth and maxheight, keeping the video's shape", async () => {
    const up = await playable();
    const narrow = await json(await oembed(`${BASE}/watch/${up.videoId}`, "&maxwidth=320"));
    expect([narrow.width, narrow.height]).toEqual([320, 180]);
    const short = await json(await oembed(`${BASE}/watch/${up.videoId}`, "&maxwidth=1000&maxheight=90"));
    expect([short.width, short.height]).toEqual([160, 90]);
    expect(embedSize({ width: 720, height: 1280 }, 500, 500)).toEqual({ width: 281, height: 500 });
    expect(embedSize({ width: null, height: null })).toEqual({ width: 640, height: 360 });
  });

  it("answers XML when asked", async () => {
    const up = await playable();
    const res = await oembed(`${BASE}/watch/${up.videoId}`, "&format=xml");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/xml; charset=utf-8");
    const xml = await res.text();
    expect(xml).toMatch(/^<\?xml version="1.0" encoding="utf-8" standalone="yes"\?><oembed><version>1.0<\/version>/);
    expect(xml).toContain("<title>Harbour &quot;at&quot; &lt;dawn&gt;</title>");
    expect(xml).toContain(`&lt;iframe src=&quot;${BASE}/embed/${up.videoId}&quot;`);
  });

  it("answers 404 for unlisted and private videos, as for videos that do not exist", async () => {
    const unlisted = await playable({ visibility: "unlisted" });
    const res = await oembed(`${BASE}/watch/${unlisted.videoId}`);
    expect(res.status).toBe(404);
    expect((await json(res)).error.code).toBe("not_found");
    const turned = await playable();
    const patch = await api(`/api/videos/${turned.videoId}`, {
      method: "PATCH",
      headers: { ...auth(turned), "content-type": "application/json" },
      body: JSON.stringify({ visibility: "private" }),
    });
    expect(patch.status).toBe(200);
    expect((await oembed(`${BASE}/watch/${turned.videoId}`)).status).toBe(404);
    expect((await oembed(`${BASE}/watch/00000000000000000000`)).status).toBe(404);
  });

  it("answers 404 for links to other sites and to pages that are not a video, and 400 without a url", async () => {
    const up = await playable();
    for (const url of [
      `https://elsewhere.example/watch/${up.videoId}`,
      `${BASE}/videos/${up.videoId}/master.m3u8`,
      `${BASE}/watch/not-an-id`,
      "not a url",
    ]) {
      const res = await oembed(url);
      expect(res.status, url).toBe(404);
    }
    const missing = await api("/api/oembed");
    expect(missing.status).toBe(400);
    expect((await json(missing)).error.code).toBe("invalid_request");
    expect((await oembed(`${BASE}/watch/${up.videoId}`, "&format=yaml")).status).toBe(400);
  });
});

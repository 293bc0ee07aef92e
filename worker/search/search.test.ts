import { env, runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { type SeedFields, seedVideo } from "../testing/catalogue.ts";
import { api, auth, bytes, chunkOf, createUpload, json, MiB, putChunk } from "../testing/helpers.ts";
import { event, metadata, processingVideo, publishPlayable, put } from "../testing/processing.ts";
import { expectMultipartGone, recordedMultipart } from "../testing/multipart.ts";
import { rowCounts, sweepDue } from "../testing/video-object.ts";
import { listQuery, type ListParams } from "./list-query.ts";

/** A ready video straight in D1, as processing leaves it (search only reads D1). */
const seed = async (fields: SeedFields) => (await seedVideo(fields)).id;

type Page = {
  items: { id: string; title: string; highlight?: { title: string; description: string } }[];
  nextCursor: string | null;
};
const search = async (query: string) => {
  const res = await api(`/api/videos?${query}`);
  expect(res.status).toBe(200);
  return json<Page>(res);
};
const ids = (p: Page) => p.items.map((i) => i.id);

describe("search", () => {
  it("ranks a title match above a tag match above a description match", async () => {
    const inDescription = await seed({ title: "Harbour timelapse", description: "Shot at sunrise from the pier." });
    const inTitle = await seed({ title: "Sunrise over the bay" });
    const inTags = await seed({ title: "Morning walk", tags: ["sunrise", "walk"] });
    expect(ids(await search("q=sunrise"))).toEqual([inTitle, inTags, inDescription]);
  });

  it("matches every word as a prefix, ignoring case and accents, and highlights safely", async () => {
    const cafe = await seed({ title: "Café <b>au</b> lait", description: "Un crème brûlée à Montréal" });
    expect(ids(await search("q=caf"))).toContain(cafe);
    expect(ids(await search("q=CAFE%20LAIT"))).toContain(cafe);
    expect(ids(await search("q=creme%20brulee%20montr"))).toContain(cafe);
    expect(ids(await search("q=cafe%20zebra"))).not.toContain(cafe);
    const hit = (await search("q=cafe")).items.find((i) => i.id === cafe)!;
    expect(hit.highlight!.title).toBe("<mark>Café</mark> &lt;b&gt;au&lt;/b&gt; lait");
  });

  it("lists only public, ready videos, newest first, and filters by exact tag", async () => {
    const unlisted = await seed({ title: "Secret zebra crossing", visibility: "unlisted" });
    const processing = await seed({ title: "Zebra still processing", status: "processing" });
    const listed = await seed({ title: "Zebra in public", tags: ["Stripes"] });
    const newest = await search("limit=100");
    expect(ids(newest)[0]).toBe(listed);
    for (const hidden of [unlisted, processing]) {
      expect(ids(newest)).not.toContain(hidden);
      expect(ids(await search("q=zebra"))).not.toContain(hidden);
    }
    expect((await json(await api(`/api/videos/${unlisted}`))).visibility).toBe("unlisted");
    expect(ids(await search("tag=stripes"))).toEqual([listed]);
    expect(ids(await search("tag=stripe"))).toEqual([]);
    expect(await json(await api("/api/tags?prefix=str"))).toEqual({ tags: [{ tag: "stripes", count: 1 }] });
  });

  it.each([
    '"',
    '""',
    '"unclosed',
    "NEAR(",
    "NEAR(a b",
    "*",
    "sun*",
    "a:b",
    "title:x",
    "OR",
    "AND",
    "NOT",
    "a OR b",
    "(a",
    ")",
    "' OR 1=1 --",
    "'; DROP TABLE videos; --",
    "\u0000\u0001\u0002",
    "^a",
    "-a",
    "+",
    "😀 🎬",
    "a".repeat(1000),
    "x".repeat(10_000),
    "%",
    "_",
    "\\",
    "{a b}",
    "a - b",
    "col:*",
    '""*',
  ])("answers hostile query #%# with 200 or a 400 JSON error, never a 5xx", async (q) => {
    const res = await api(`/api/videos?q=${encodeURIComponent(q)}`);
    expect([200, 400]).toContain(res.status);
    const body = await json(res);
    if (res.status === 400)
      expect(body).toMatchObject({ error: { code: expect.any(String), message: expect.any(String) } });
    else expect(body).toMatchObject({ items: expect.any(Array) });
  });

  it("keeps every listing and search query on an index", async () => {
    const variants: ListParams[] = [
      { limit: 24 },
      { limit: 24, sort: "oldest" },
      { limit: 24, sort: "duration" },
      { limit: 24, tag: "travel" },
      { limit: 24, q: "sunrise" },
      { limit: 24, q: "sun rise", sort: "newest" },
      { limit: 24, q: "sun", tag: "travel" },
    ];
    for (const params of variants) {
      const { sql, binds } = listQuery(params);
      const plan = (
        await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`)
          .bind(...binds)
          .all<{ detail: string }>()
      ).results.map((r) => r.detail);
      // A full scan of a table reads every video; FTS and index searches do not.
      const fullScans = plan.filter(
        (d) => /^SCAN (v|videos|t|video_tags)\b/.test(d) && !/USING (COVERING )?INDEX/.test(d),
      );
      expect({ params, fullScans }).toEqual({ params, fullScans: [] });
      if (params.q) expect(plan.some((d) => d.includes("VIRTUAL TABLE INDEX"))).toBe(true);
      else expect(plan.some((d) => /videos_listing_(created|duration)|video_tags/.test(d))).toBe(true);
    }
    const tagPlan = (
      await env.DB.prepare(
        "EXPLAIN QUERY PLAN SELECT t.tag, count(*) FROM video_tags t JOIN videos v ON v.id = t.video_id WHERE t.tag >= ? AND t.tag < ? GROUP BY t.tag",
      )
        .bind("a", "b")
        .all<{ detail: string }>()
    ).results;
    expect(tagPlan.map((r) => r.detail).join(" | ")).toMatch(/SEARCH t USING PRIMARY KEY \(tag>\? AND tag<\?\)/);
  });
});

describe("management", () => {
  it("lets the owner edit title, description, tags and visibility, and search follows at once", async () => {
    const { up, job } = await processingVideo({ title: "Untitled clip" });
    await publishPlayable(job);
    expect(ids(await search("q=untitled"))).toContain(up.videoId);
    const patch = (body: unknown, headers: Record<string, string>) =>
      api(`/api/videos/${up.videoId}`, {
        method: "PATCH",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify(body),
      });

    expect((await patch({ title: "Hacked" }, {})).status).toBe(401);
    expect((await patch({ title: "Hacked" }, { authorization: "Bearer wrong" })).status).toBe(401);
    expect((await patch({}, auth(up))).status).toBe(400);
    expect((await patch({ visibility: "secret" }, auth(up))).status).toBe(400);
    expect(ids(await search("q=hacked"))).toEqual([]);

    const res = await patch(
      { title: "Glacier flyover", description: "Drone footage", tags: ["ice", "drone"] },
      auth(up),
    );
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ title: "Glacier flyover", tags: ["ice", "drone"] });
    expect(ids(await search("q=untitled"))).not.toContain(up.videoId);
    expect(ids(await search("q=glacier"))).toEqual([up.videoId]);
    expect(ids(await search("tag=drone"))).toEqual([up.videoId]);

    expect((await patch({ visibility: "unlisted" }, auth(up))).status).toBe(200);
    expect(ids(await search("q=glacier"))).toEqual([]);
    expect((await api(`/api/videos/${up.videoId}`)).status).toBe(200);
  });

  it("deletes every trace of a processed video, and a late callback cannot resurrect it", async () => {
    const { up, job } = await processingVideo({ title: "Doomed glacier" });
    // Deleted while its job is still running: only deletion stands between the job and a write.
    await publishPlayable(job);
    expect((await env.VIDEOS.list({ prefix: `videos/${up.videoId}/` })).objects.length).toBeGreaterThan(3);

    expect((await api(`/api/videos/${up.videoId}`, { method: "DELETE" })).status).toBe(401);
    expect(
      (await api(`/api/videos/${up.videoId}`, { method: "DELETE", headers: { authorization: "Bearer x" } })).status,
    ).toBe(401);
    expect((await api(`/api/videos/${up.videoId}`, { method: "DELETE", headers: auth(up) })).status).toBe(204);

    expect((await env.VIDEOS.list({ prefix: `videos/${up.videoId}/` })).objects).toEqual([]);
    expect(await env.DB.prepare("SELECT count(*) AS n FROM videos WHERE id = ?").bind(up.videoId).first("n")).toBe(0);
    expect(ids(await search("q=doomed"))).toEqual([]);
    for (const path of [
      `/api/videos/${up.videoId}`,
      `/videos/${up.videoId}/master.m3u8`,
      `/api/uploads/${up.videoId}`,
    ]) {
      expect((await api(path, { headers: auth(up) })).status).toBe(404);
    }
    // A transcoder that did not hear of the deletion finishes its work: its writes and reports are refused.
    for (const late of [
      await put(job, "source/seg_00002.m4s", "late"),
      await event(job, { type: "completed", metadata }),
    ]) {
      expect(late.status).toBe(409);
      expect(await json(late)).toMatchObject({ error: { code: "job_superseded" } });
    }
    expect((await env.VIDEOS.list({ prefix: `videos/${up.videoId}/` })).objects).toEqual([]);
    const gone = await api(`/api/videos/${up.videoId}`);
    expect(gone.status).toBe(404);
    expect(await json(gone)).toMatchObject({ error: { code: "not_found" } });
    expect((await api(`/api/videos/${up.videoId}`, { method: "DELETE", headers: auth(up) })).status).toBe(404);

    // The final sweep also drops the Durable Object's tombstone.
    expect(await runDurableObjectAlarm(await sweepDue(up.videoId))).toBe(true);
    expect(await rowCounts(up.videoId)).toEqual({
      video: 0,
      chunks: 0,
      leases: 0,
      contended: 0,
      jobs: 0,
      tombstone: 0,
    });
  });

  it("deletes a video in the middle of its upload, leaving nothing behind", async () => {
    const file = bytes(11 * MiB, 5);
    const up = await createUpload({ size: file.length, chunkSize: 5 * MiB, title: "Half uploaded" });
    expect((await putChunk(up, 1, chunkOf(file, up, 1))).status).toBe(200);
    const multipart = await recordedMultipart(up.videoId);
    expect((await api(`/api/videos/${up.videoId}`, { method: "DELETE", headers: auth(up) })).status).toBe(204);
    // Parts of an unfinished upload are not objects: only R2 refusing the upload id shows they were dropped.
    await expectMultipartGone(multipart);
    expect((await putChunk(up, 2, chunkOf(file, up, 2))).status).toBe(404);
    expect((await api(`/api/uploads/${up.videoId}/complete`, { method: "POST", headers: auth(up) })).status).toBe(404);
    expect((await env.VIDEOS.list({ prefix: `videos/${up.videoId}/` })).objects).toEqual([]);
    expect(await env.DB.prepare("SELECT count(*) AS n FROM videos WHERE id = ?").bind(up.videoId).first("n")).toBe(0);
  });
});

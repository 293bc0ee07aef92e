// Search as a client sees it: ranking, prefix and accent folding, safe
// highlights, what is listed, hostile queries, and every query on an index.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { type SeedFields, seedVideo } from "../testing/catalogue.ts";
import { api, json } from "../testing/helpers.ts";
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

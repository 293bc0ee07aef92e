// Listing and search as a client sees them: the documented sort orders in full,
// keyset pages while matching videos keep arriving, the `q` limit, tag
// suggestions' order, highlights, and the codes of refusals. Videos are
// written straight to D1 as processing leaves them (search only reads D1).
import { describe, expect, it } from "vitest";
import { type SeedFields, seedVideo } from "../testing/catalogue.ts";
import { api, json } from "../testing/helpers.ts";

/** A video, each one created a second after the previous. */
const seed = seedVideo;

type Page = {
  items: { id: string; title: string; highlight?: { title: string; description: string } }[];
  nextCursor: string | null;
};

async function page(query: string): Promise<Page> {
  const res = await api(`/api/videos?${query}`);
  expect({ query, status: res.status }).toEqual({ query, status: 200 });
  return json<Page>(res);
}

/** Every page of a query, in order; `between` runs after each page, before the next is asked for. */
async function allPages(query: string, between?: () => Promise<void>): Promise<string[]> {
  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const p: Page = await page(`${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    seen.push(...p.items.map((i) => i.id));
    cursor = p.nextCursor;
    await between?.();
  } while (cursor);
  return seen;
}

/** Shortest first; equal durations by id, as the API promises a total order. */
const byDuration = (videos: { id: string; durationSec: number }[]) =>
  [...videos]
    .sort((a, b) => a.durationSec - b.durationSec || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((v) => v.id);

async function refusal(query: string) {
  const res = await api(`/api/videos?${query}`);
  return { query, status: res.status, body: await json(res) };
}

describe("listing order", () => {
  it("orders oldest, newest and duration in full, by search and by tag, across pages", async () => {
    const durations = [30, 5, 60, 5, 12, 45];
    const videos = [];
    for (const [i, durationSec] of durations.entries())
      videos.push(await seed({ title: `Fjordline clip ${i}`, tags: ["fjordline"], durationSec }));
    const oldest = videos.map((v) => v.id);
    const expected = { oldest, newest: [...oldest].reverse(), duration: byDuration(videos) };
    // The two 5-second clips make the id tie-break part of the order.
    expect(expected.duration).not.toEqual(oldest);

    for (const filter of ["q=fjordline", "tag=fjordline"]) {
      for (const sort of ["oldest", "newest", "duration"] as const) {
        const query = `${filter}&sort=${sort}`;
        expect({ query, ids: (await page(`${query}&limit=100`)).items.map((i) => i.id) }).toEqual({
          query,
          ids: expected[sort],
        });
        expect({ query, paged: await allPages(`${query}&limit=2`) }).toEqual({ query, paged: expected[sort] });
      }
    }
  });

  it("pages neither repeat nor skip a video while matching videos arrive between pages", async () => {
    const originals: { id: string; durationSec: number }[] = [];
    for (let i = 0; i < 23; i++)
      originals.push(await seed({ title: `Kayak trip ${i}`, durationSec: 10 + ((i * 7) % 11) }));
    const ids = originals.map((v) => v.id);
    // Newcomers match the query and sort before every video already there by
    // `newest` and by `duration` (each is shorter than the last): offset
    // paging would shift them into later pages.
    const newcomers: { id: string; durationSec: number }[] = [];
    const arrive = async () => {
      newcomers.push(
        await seed({ title: `Kayak trip newcomer ${newcomers.length}`, durationSec: 1 / (newcomers.length + 1) }),
      );
    };
    const originalsOf = (seen: string[]) => seen.filter((id) => ids.includes(id));

    expect({ newest: await allPages("q=kayak%20trip&sort=newest&limit=5", arrive) }).toEqual({
      newest: [...ids].reverse(),
    });
    // Those that arrived during the first run were there from the start of this one; later ones land before the cursor.
    const present = [...originals, ...newcomers];
    expect(newcomers.length).toBeGreaterThan(0);
    expect({ duration: await allPages("q=kayak%20trip&sort=duration&limit=5", arrive) }).toEqual({
      duration: byDuration(present),
    });

    // By `oldest`, newcomers belong after the originals, in order of arrival, and keyset paging reaches them.
    const before = newcomers.length;
    const oldest = await allPages("q=kayak%20trip&sort=oldest&limit=5", arrive);
    expect({ oldest }).toEqual({
      oldest: [...ids, ...newcomers.slice(0, oldest.length - ids.length).map((v) => v.id)],
    });
    expect(oldest.length - ids.length).toBeGreaterThan(before);

    const ranked = await allPages("q=kayak%20trip&limit=4", arrive);
    expect(new Set(ranked).size).toBe(ranked.length);
    expect(originalsOf(ranked).sort()).toEqual([...ids].sort());

    const listed = await allPages("limit=4", arrive);
    expect(new Set(listed).size).toBe(listed.length);
    expect(originalsOf(listed)).toEqual([...ids].reverse());
  });
});

describe("search text", () => {
  it("accepts a q of exactly 1000 characters and refuses 1001 with invalid_request", async () => {
    const lighthouse = await seed({ title: "Lighthouse at night" });
    const q1000 = `${"lighthouse ".repeat(90)}lighthouse`;
    expect(q1000.length).toBe(1000);
    expect((await page(`q=${encodeURIComponent(q1000)}`)).items.map((i) => i.id)).toContain(lighthouse.id);
    expect(await refusal(`q=${encodeURIComponent(`${q1000}s`)}`)).toMatchObject({
      status: 400,
      body: {
        error: {
          code: "invalid_request",
          message: expect.any(String),
          issues: [{ path: "q", message: expect.any(String) }],
        },
      },
    });
  });

  it("highlights matches in the description with <mark> and escapes everything else", async () => {
    const v = await seed({ title: "Surfing lesson", description: `Waves <b>big</b> & "surf" at dawn, Tom's board` });
    const hit = (await page("q=surf")).items.find((i) => i.id === v.id);
    expect(hit?.highlight).toEqual({
      title: "<mark>Surfing</mark> lesson",
      description: "Waves &lt;b&gt;big&lt;/b&gt; &amp; &quot;<mark>surf</mark>&quot; at dawn, Tom&#39;s board",
    });
  });
});

describe("tag suggestions", () => {
  it("lists the most used tags first, equal counts alphabetically, counting only public, ready videos", async () => {
    const uses: [string[], Partial<SeedFields>?][] = [
      [["Zqalpha", "zqbeta"]],
      [["zqbeta", "zqgamma"]],
      [["zqbeta", "zqalpha", "zqdelta"]],
      [["zqgamma"]],
      [["zqdelta"], { visibility: "unlisted" }],
      [["zqdelta"], { status: "processing" }],
      [["zqdelta"], { visibility: "unlisted" }],
    ];
    for (const [tags, extra] of uses) await seed({ title: "Tagged", tags, ...extra });
    const expected = [
      { tag: "zqbeta", count: 3 },
      { tag: "zqalpha", count: 2 },
      { tag: "zqgamma", count: 2 },
      { tag: "zqdelta", count: 1 },
    ];
    expect(await json(await api("/api/tags?prefix=zq"))).toEqual({ tags: expected });
    expect(await json(await api("/api/tags?prefix=ZQ&limit=2"))).toEqual({ tags: expected.slice(0, 2) });
  });
});

describe("listing refusals", () => {
  it("answers 400 invalid_cursor to a cursor it did not give out or gave out for another sort", async () => {
    for (const i of [1, 2, 3]) await seed({ title: `Cursorvale ${i}` });
    const oldestCursor = (await page("q=cursorvale&sort=oldest&limit=1")).nextCursor!;
    const rankedCursor = (await page("q=cursorvale&limit=1")).nextCursor!;
    expect(typeof oldestCursor).toBe("string");
    for (const query of [
      "cursor=nope",
      `cursor=${btoa("not json")}`,
      `cursor=${btoa('["oldest",1]')}&sort=oldest`,
      `q=cursorvale&sort=newest&cursor=${encodeURIComponent(oldestCursor)}`,
      `sort=newest&cursor=${encodeURIComponent(rankedCursor)}`,
    ]) {
      expect(await refusal(query)).toMatchObject({
        query,
        status: 400,
        body: { error: { code: "invalid_cursor", message: expect.any(String) } },
      });
    }
    expect(await refusal(`q=cursorvale&sort=oldest&cursor=${encodeURIComponent(oldestCursor)}`)).toMatchObject({
      status: 200,
    });
  });

  it("answers 400 invalid_request naming the parameter for a bad limit or sort", async () => {
    for (const [query, path] of [
      ["limit=0", "limit"],
      ["limit=101", "limit"],
      ["limit=x", "limit"],
      ["sort=random", "sort"],
    ]) {
      expect(await refusal(query!)).toMatchObject({
        query,
        status: 400,
        body: { error: { code: "invalid_request", message: expect.any(String), issues: [{ path }] } },
      });
    }
  });
});

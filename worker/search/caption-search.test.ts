// Search finds what videos say: cue text matches `q`, ranked after every
// match in title, tags or description; each video found in its captions
// carries its best moments; pages neither repeat nor skip across both kinds;
// only public, ready videos' cues can be found or move a score. Videos and
// tracks are written straight to D1 and R2, as the caption API leaves them.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { deleteTrack, putTrack } from "../captions/caption-tracks.ts";
import { readCaptions } from "../captions/webvtt.ts";
import { updateVideo } from "../db/videos.ts";
import { type SeedFields, seedVideo } from "../testing/catalogue.ts";
import { api, json } from "../testing/helpers.ts";
import { listQuery, momentsQuery } from "./list-query.ts";

type Item = { id: string; highlight?: { title: string; description: string }; moments?: { t: number; text: string }[] };
type Page = { items: Item[]; nextCursor: string | null };

async function search(query: string): Promise<Page> {
  const res = await api(`/api/videos?${query}`);
  expect(res.status).toBe(200);
  return json<Page>(res);
}
const ids = (p: Page) => p.items.map((i) => i.id);

/** A video, with captions in `lang` saying each `[seconds, text]`. */
async function captioned(fields: SeedFields, said: [number, string][], lang = "en"): Promise<string> {
  const { id } = await seedVideo(fields);
  await caption(id, said, lang);
  return id;
}

async function caption(id: string, said: [number, string][], lang = "en"): Promise<void> {
  const vtt = `WEBVTT\n\n${said.map(([t, text]) => `${stamp(t)} --> ${stamp(t + 1)}\n${text}\n`).join("\n")}`;
  const { cues } = readCaptions(vtt);
  expect(await putTrack(env, { videoId: id, lang, label: lang, cues, vtt })).toBeDefined();
}

const stamp = (seconds: number) => {
  const ms = Math.round(seconds * 1000);
  const pad = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${pad(Math.floor(ms / 3_600_000))}:${pad(Math.floor(ms / 60_000) % 60)}:${pad(Math.floor(ms / 1000) % 60)}.${pad(ms % 1000, 3)}`;
};

describe("searching what videos say", () => {
  it("ranks a video found only in its captions below title, tag and description matches, with its moment", async () => {
    const inDescription = await seedVideo({ title: "Cliff walk", description: "An albatross glides by." });
    const inTitle = await seedVideo({ title: "Albatross over the cape" });
    const inTags = await seedVideo({ title: "Sea birds", tags: ["albatross"] });
    const inCaptions = await captioned({ title: "Harbour <morning>" }, [
      [3, "Good morning"],
      [12.5, "Look, an <i>albatross</i>!"],
    ]);
    const page = await search("q=albatross");
    expect(ids(page)).toEqual([inTitle.id, inTags.id, inDescription.id, inCaptions]);
    const found = page.items.at(-1)!;
    expect(found.moments).toEqual([{ t: 12.5, text: "Look, an <mark>albatross</mark>!" }]);
    // Nothing of the title matched: it stands escaped, without marks.
    expect(found.highlight).toEqual({ title: "Harbour &lt;morning&gt;", description: "" });
    expect(page.items.slice(0, 3).every((i) => i.moments === undefined)).toBe(true);
  });

  it("gives a video matched by its words and its captions both its highlight and its moments", async () => {
    const id = await captioned({ title: "Puffin colony" }, [[61, "Here the puffins nest"]]);
    const item = (await search("q=puffin")).items.find((i) => i.id === id)!;
    expect(item.highlight!.title).toBe("<mark>Puffin</mark> colony");
    expect(item.moments).toEqual([{ t: 61, text: "Here the <mark>puffins</mark> nest" }]);
  });

  it("shows the best three cues, in time order, escaped but for the marks", async () => {
    const id = await captioned({ title: "Estuary" }, [
      [1, "and then, after a long while by the water, somewhere far off a pelican appeared again"],
      [5, "Pelican!"],
      [9, "1 &lt; 2 pelicans & a heron"],
      [20, "pelican, pelican"],
      [30, "much later in the afternoon when the tide was out we saw one more pelican fly over the dunes"],
    ]);
    const item = (await search("q=pelican")).items.find((i) => i.id === id)!;
    expect(item.moments).toEqual([
      { t: 5, text: "<mark>Pelican</mark>!" },
      { t: 9, text: "1 &lt; 2 <mark>pelicans</mark> &amp; a heron" },
      { t: 20, text: "<mark>pelican</mark>, <mark>pelican</mark>" },
    ]);
  });

  it("finds a track's new words once it is replaced, and no longer its old ones", async () => {
    const id = await captioned({ title: "Lagoon" }, [[2, "a quetzal sings"]]);
    expect(ids(await search("q=quetzal"))).toEqual([id]);
    await caption(id, [[4, "a toucan calls"]]);
    expect(ids(await search("q=quetzal"))).toEqual([]);
    expect((await search("q=toucan")).items.map((i) => [i.id, i.moments])).toEqual([
      [id, [{ t: 4, text: "a <mark>toucan</mark> calls" }]],
    ]);
  });

  it("takes a caption-only match's moments from the page's videos only", async () => {
    const first = await captioned({ title: "Marsh" }, [[1, "a bittern booms"]]);
    const second = await captioned({ title: "Reeds" }, [[2, "the bittern again, a bittern"]]);
    const page = await search("q=bittern&limit=1");
    expect(page.items).toHaveLength(1);
    const [shown] = page.items;
    expect(shown.moments).toHaveLength(1);
    const { sql, binds } = momentsQuery('"bittern"*', [shown.id]);
    const rows = (
      await env.DB.prepare(sql)
        .bind(...binds)
        .all<{ video_id: string }>()
    ).results;
    // Both videos say it; only the page's one is read.
    expect(rows.map((r) => r.video_id)).toEqual([shown.id]);
    expect([first, second]).toContain(shown.id);
  });

  it("pages through words and caption matches alike, neither repeating nor skipping one", async () => {
    const byWords: string[] = [];
    const bySaid: string[] = [];
    for (let i = 0; i < 5; i++) byWords.push((await seedVideo({ title: `Kingfisher ${i}` })).id);
    for (let i = 0; i < 5; i++)
      bySaid.push(
        await captioned({ title: `River ${i}`, tags: i === 0 ? ["riverbank"] : [] }, [[i, `a kingfisher ${i}`]]),
      );
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Page = await search(`q=kingfisher&limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
      seen.push(...ids(page));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(10);
    expect(new Set(seen.slice(0, 5))).toEqual(new Set(byWords));
    expect(new Set(seen.slice(5))).toEqual(new Set(bySaid));
    // Other orders take caption matches too, and the tag filter applies to them.
    expect(new Set(ids(await search("q=kingfisher&sort=oldest&limit=100")))).toEqual(new Set([...byWords, ...bySaid]));
    expect(ids(await search("q=kingfisher&tag=riverbank"))).toEqual([bySaid[0]]);
  });
});

describe("what caption search may see", () => {
  const indexedCues = async () =>
    (await env.DB.prepare("SELECT count(*) AS n FROM caption_cues_fts_docsize").first<{ n: number }>())!.n;

  it("never finds an unlisted or unfinished video's captions, and ranks the same however many there are", async () => {
    await captioned({ title: "Dunes" }, [[1, "the sirocco rises"]]);
    await captioned({ title: "Oasis" }, [[1, "sirocco again, a sirocco at dusk"]]);
    const before = await search("q=sirocco&limit=1");
    expect(before.nextCursor).not.toBeNull();
    for (let i = 0; i < 4; i++) {
      await captioned({ title: `Secret ${i}`, visibility: "unlisted" }, [[1, "sirocco sirocco sirocco"]]);
      await captioned({ title: `Draft ${i}`, status: "processing" }, [[1, "sirocco sirocco"]]);
    }
    // The cursor carries the last item's score: hidden cues in the index would move it.
    expect(await search("q=sirocco&limit=1")).toEqual(before);
    expect(ids(await search("q=sirocco&limit=100"))).toHaveLength(2);
  });

  it("indexes a video's cues while it is public and ready, and takes them out when it stops being so", async () => {
    const rows = await indexedCues();
    const id = await captioned({ title: "Reef", status: "processing" }, [
      [1, "a manta ray"],
      [2, "two mantas"],
    ]);
    expect(await indexedCues()).toBe(rows);
    expect(ids(await search("q=manta"))).toEqual([]);

    await updateVideo(env.DB, id, { status: "ready" });
    expect(await indexedCues()).toBe(rows + 2);
    expect(ids(await search("q=manta"))).toEqual([id]);

    await updateVideo(env.DB, id, { visibility: "unlisted" });
    expect(await indexedCues()).toBe(rows);
    expect(ids(await search("q=manta"))).toEqual([]);
    // An unlisted video's new track stays out of the index too.
    await caption(id, [[3, "a manta again"]], "fr");
    expect(await indexedCues()).toBe(rows);

    await updateVideo(env.DB, id, { visibility: "public" });
    expect(await indexedCues()).toBe(rows + 3);
    await env.DB.prepare("INSERT INTO caption_cues_fts (caption_cues_fts) VALUES ('integrity-check')").run();
  });

  it("keeps one transcript per public, ready video, of all its tracks, through every change", async () => {
    const transcript = async (id: string) =>
      (
        await env.DB.prepare(
          "SELECT t.text FROM caption_transcripts_fts t JOIN videos v ON v.rowid = t.rowid WHERE v.id = ?",
        )
          .bind(id)
          .all<{ text: string }>()
      ).results.map((r) => r.text);
    const id = await captioned({ title: "Fjord", status: "processing" }, [[1, "an orca surfaces"]]);
    expect(await transcript(id)).toEqual([]);
    await updateVideo(env.DB, id, { status: "ready" });
    expect(await transcript(id)).toEqual(["an orca surfaces"]);
    await caption(id, [[2, "une orque"]], "fr");
    expect(await transcript(id)).toEqual(["an orca surfaces\nune orque"]);
    await caption(id, [[3, "two orcas"]]);
    expect(await transcript(id)).toEqual(["two orcas\nune orque"]);
    expect(await deleteTrack(env, id, "en")).toBe(true);
    expect(await transcript(id)).toEqual(["une orque"]);
    await updateVideo(env.DB, id, { visibility: "unlisted" });
    expect(await transcript(id)).toEqual([]);
    await updateVideo(env.DB, id, { visibility: "public" });
    expect(ids(await search("q=orque"))).toEqual([id]);
    const { rowid } = (await env.DB.prepare("SELECT rowid FROM videos WHERE id = ?")
      .bind(id)
      .first<{ rowid: number }>())!;
    await env.DB.prepare("DELETE FROM videos WHERE id = ?").bind(id).run();
    expect(
      await env.DB.prepare("SELECT count(*) AS n FROM caption_transcripts_fts WHERE rowid = ?").bind(rowid).first("n"),
    ).toBe(0);
    expect(ids(await search("q=orque"))).toEqual([]);
    await env.DB.prepare(
      "INSERT INTO caption_transcripts_fts (caption_transcripts_fts) VALUES ('integrity-check')",
    ).run();
  });

  it("finds the moments of a whole page of 100 videos in one query (D1 binds at most 100 parameters)", async () => {
    const ids = Array.from({ length: 100 }, (_, i) => `v${String(i).padStart(19, "0")}`);
    const { sql, binds } = momentsQuery('"sun"*', ids);
    expect(binds.length).toBeLessThanOrEqual(100);
    expect(
      (
        await env.DB.prepare(sql)
          .bind(...binds)
          .all()
      ).success,
    ).toBe(true);
  });

  it("keeps caption search on its indexes", async () => {
    const explain = async ({ sql, binds }: { sql: string; binds: unknown[] }) => {
      const plan = (
        await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`)
          .bind(...binds)
          .all<{ detail: string }>()
      ).results.map((r) => r.detail);
      // Cues and videos are read by key, never walked.
      const walks = plan.filter(
        (d) => /^SCAN (c|caption_cues|v|videos)\b/.test(d) || /^SEARCH v USING INDEX videos_listing/.test(d),
      );
      expect({ sql, walks }).toEqual({ sql, walks: [] });
      return plan;
    };
    for (const page of [
      listQuery({ limit: 24, q: "sunrise" }),
      listQuery({ limit: 24, q: "sun", tag: "travel" }),
      listQuery({ limit: 24, q: "sun", sort: "newest" }),
    ]) {
      // A page matches videos by their transcripts, each read by its rowid: no cue is read at all.
      const plan = await explain(page);
      expect(plan.some((d) => d.startsWith("SCAN caption_transcripts_fts VIRTUAL TABLE INDEX"))).toBe(true);
      expect(plan).toContain("SEARCH v USING INTEGER PRIMARY KEY (rowid=?)");
      expect(plan.some((d) => /caption_cues/.test(d))).toBe(false);
    }
    // Moments read the page's videos' cues by `caption_cues_track`, and match the full-text index once:
    // never probed by rowid (FTS5 writes a rowid constraint as `=` in its index string), once per cue.
    const plan = await explain(momentsQuery('"sun"*', ["a", "b"]));
    expect(plan.some((d) => /^SEARCH pc USING (COVERING )?INDEX caption_cues_track \(video_id=\?\)/.test(d))).toBe(
      true,
    );
    expect(plan.filter((d) => d.startsWith("SCAN caption_cues_fts VIRTUAL TABLE INDEX"))).toHaveLength(1);
    expect(plan.some((d) => /caption_cues_fts VIRTUAL TABLE INDEX \d+:.*=/.test(d))).toBe(false);
    expect(plan).toContain("SEARCH c USING INTEGER PRIMARY KEY (rowid=?)");
  });
});

// What the full-text index holds: only videos search may return (public and
// ready), so nothing about hidden videos can leak through ranking, and rows
// enter and leave the index as they become searchable or stop being so.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { deleteVideoRow, updateVideo } from "../db/videos.ts";
import { seedVideo } from "../testing/catalogue.ts";
import { api, json } from "../testing/helpers.ts";

async function search(q: string): Promise<{ ids: string[]; nextCursor: string | null }> {
  const res = await api(`/api/videos?q=${encodeURIComponent(q)}&limit=1`);
  expect(res.status).toBe(200);
  const body = await json<{ items: { id: string }[]; nextCursor: string | null }>(res);
  return { ids: body.items.map((i) => i.id), nextCursor: body.nextCursor };
}

// The docsize shadow table has one row per indexed document (the table itself reads through to `videos`).
const indexedRows = async () =>
  (await env.DB.prepare("SELECT count(*) AS n FROM videos_fts_docsize").first<{ n: number }>())!.n;

describe("the search index", () => {
  it("ranks public videos the same however many hidden videos share their words", async () => {
    await seedVideo({ title: "zephyr over the dunes" });
    await seedVideo({ title: "a zephyr at dawn", description: "calm" });
    const before = await search("zephyr");
    expect(before.nextCursor).not.toBeNull();

    // The cursor carries the last item's bm25 score: hidden rows in the index would move it.
    for (let i = 0; i < 5; i++) {
      await seedVideo({ title: `zephyr zephyr secret ${i}`, visibility: "unlisted" });
      await seedVideo({ title: `zephyr draft ${i}`, status: "processing" });
    }
    expect(await search("zephyr")).toEqual(before);
  });

  it("holds a video only while it is public and ready, and follows its edits", async () => {
    const rows = await indexedRows();
    const { id } = await seedVideo({ title: "quokka in processing", status: "processing" });
    expect(await indexedRows()).toBe(rows);

    await updateVideo(env.DB, id, { status: "ready" });
    expect(await indexedRows()).toBe(rows + 1);
    expect((await search("quokka")).ids).toEqual([id]);

    await updateVideo(env.DB, id, { title: "wombat at noon" });
    expect((await search("quokka")).ids).toEqual([]);
    expect((await search("wombat")).ids).toEqual([id]);

    await updateVideo(env.DB, id, { visibility: "unlisted" });
    expect(await indexedRows()).toBe(rows);
    await updateVideo(env.DB, id, { visibility: "public" });
    await deleteVideoRow(env.DB, id);
    expect(await indexedRows()).toBe(rows);
    await env.DB.prepare("INSERT INTO videos_fts (videos_fts) VALUES ('integrity-check')").run();
  });
});

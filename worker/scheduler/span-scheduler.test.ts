// The span scheduler inside workerd: slots handed out in turn between videos,
// each video held to its share while another waits (3 slots, share 1 here).
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";

const A = "aaaaaaaaaaaaaaaaaaaa";
const B = "bbbbbbbbbbbbbbbbbbbb";
const spans = (jobId: string, ...ns: number[]) => ns.map((index) => ({ jobId, index, attempt: 1 }));
const names = (grants: Array<{ videoId: string; index: number }>) =>
  grants.map((g) => `${g.videoId === A ? "a" : "b"}${g.index}`);

describe("the span scheduler", () => {
  it("lets one video take every free slot while no other waits, then alternates, each held to its share", async () => {
    const scheduler = env.SPAN_SCHEDULER.getByName("fairness");
    expect(names(await scheduler.enqueue(A, spans("ja", 0, 1, 2, 3, 4)))).toEqual(["a0", "a1", "a2"]);
    // Every slot is taken: B waits.
    expect(names(await scheduler.enqueue(B, spans("jb", 0, 1, 2)))).toEqual([]);
    // A holds three, over its share of one, while B waits: the freed slot is B's.
    expect(names(await scheduler.release(A, { jobId: "ja", index: 0 }))).toEqual(["b0"]);
    // Both hold their share: turns alternate, A's now.
    expect(names(await scheduler.release(A, { jobId: "ja", index: 1 }))).toEqual(["a3"]);
    expect(names(await scheduler.release(B, { jobId: "jb", index: 0 }))).toEqual(["b1"]);
    // A video that is gone gives its slots back at once, to whoever waits.
    expect(names(await scheduler.forget(A))).toEqual(["b2"]);
  });

  it("sends a span's message again when its video asks again for the same try, without taking another slot", async () => {
    const scheduler = env.SPAN_SCHEDULER.getByName("lost-message");
    expect(names(await scheduler.enqueue(A, spans("ja", 0)))).toEqual(["a0"]);
    expect(names(await scheduler.enqueue(A, spans("ja", 0)))).toEqual(["a0"]);
    expect(names(await scheduler.enqueue(B, spans("jb", 0, 1, 2)))).toEqual(["b0", "b1"]);
  });
});

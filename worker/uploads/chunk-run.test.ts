import { describe, expect, it } from "vitest";
import { bytes } from "../testing/helpers.ts";
import { ByteCutter } from "./chunk-run.ts";

/** `data` delivered in pieces of the given sizes, in turn, as a network would. */
function delivered(data: Uint8Array, sizes: number[]): ReadableStream<Uint8Array> {
  let at = 0;
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= data.length) return controller.close();
      const next = Math.min(data.length, at + sizes[i++ % sizes.length]!);
      controller.enqueue(data.slice(at, next));
      at = next;
    },
  });
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

describe("ByteCutter", () => {
  it("cuts a body into consecutive streams of the lengths asked, whatever pieces it arrives in", async () => {
    const data = bytes(10_000, 3);
    for (const sizes of [[1], [7, 3000, 1], [10_000], [4096, 0, 333]]) {
      const cutter = new ByteCutter(delivered(data, sizes));
      const parts: Uint8Array[] = [];
      for (const length of [2500, 2500, 2500, 2500]) {
        expect(await cutter.ended()).toBe(false);
        parts.push(await readAll(cutter.next(length)));
      }
      expect(await cutter.ended()).toBe(true);
      expect(parts.map((p) => p.length)).toEqual([2500, 2500, 2500, 2500]);
      expect(parts.map((p, i) => p.every((b, j) => b === data[i * 2500 + j]))).toEqual([true, true, true, true]);
    }
  });

  it("ends a stream early when the body ends inside it", async () => {
    const cutter = new ByteCutter(delivered(bytes(3000, 4), [1000]));
    expect((await readAll(cutter.next(2000))).length).toBe(2000);
    expect((await readAll(cutter.next(2000))).length).toBe(1000);
    expect(await cutter.ended()).toBe(true);
  });

  it("shows every byte once, in order, before handing it on", async () => {
    const data = bytes(5000, 5);
    const seen: number[] = [];
    const cutter = new ByteCutter(delivered(data, [700, 1]), async (piece) => {
      seen.push(...piece);
    });
    await readAll(cutter.next(1234));
    expect(seen.length).toBeGreaterThanOrEqual(1234);
    await readAll(cutter.next(5000 - 1234));
    expect(await cutter.ended()).toBe(true);
    expect(seen).toEqual([...data]);
  });

  it("passes on the body's error to the stream being read", async () => {
    let sent = false;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent) return controller.error(new Error("connection reset"));
        sent = true;
        controller.enqueue(bytes(100, 6));
      },
    });
    const cutter = new ByteCutter(body);
    await expect(readAll(cutter.next(1000))).rejects.toThrow("connection reset");
  });
});

import { describe, expect, it } from "vitest";
import { serveBytes } from "./serve.ts";

const body = new Uint8Array(100).map((_, i) => i);
const serve = (range: string | null, maxRangeBytes?: number) =>
  serveBytes(new Request("http://x/", { headers: range ? { range } : {} }), body, {
    contentType: "video/mp4",
    etag: '"e"',
    cacheControl: "no-store",
    maxRangeBytes,
  });

describe("a bounded range answer", () => {
  it("answers an open-ended range with at most the bound, saying in Content-Range where it stopped", async () => {
    const res = serve("bytes=10-", 30);
    expect(res.status).toBe(206);
    expect(res.headers.get("content-range")).toBe("bytes 10-39/100");
    expect(res.headers.get("content-length")).toBe("30");
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(body.subarray(10, 40));
  });

  it("answers a range within the bound, and a request without Range, in full", async () => {
    expect(serve("bytes=90-99", 30).headers.get("content-range")).toBe("bytes 90-99/100");
    const whole = serve(null, 30);
    expect(whole.status).toBe(200);
    expect((await whole.arrayBuffer()).byteLength).toBe(100);
  });
});

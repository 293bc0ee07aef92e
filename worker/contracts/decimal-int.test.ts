// Numbers a client writes as text (chunk indexes, Content-Length, `limit`)
// are read only as plain decimal digits: `1e0`, `0x1`, ` 1` are refused.
import { describe, expect, it } from "vitest";
import { api, auth, bytes, createUpload, json, putChunk } from "../testing/helpers.ts";
import { decimalInt } from "./decimal-int.ts";

const NOT_DECIMAL = ["1e0", "0x1", " 1", "1 ", "+1", "1.0", "", "-1", "0b1", "1_0", "Infinity", "١"];

describe("decimalInt", () => {
  it("reads plain decimal digits and refuses every other way of writing a number", () => {
    const schema = decimalInt(0, 100);
    expect(schema.parse("1")).toBe(1);
    expect(schema.parse("007")).toBe(7);
    expect(schema.parse("100")).toBe(100);
    for (const text of NOT_DECIMAL) expect(schema.safeParse(text).success, JSON.stringify(text)).toBe(false);
    expect(schema.safeParse("101").success).toBe(false);
    expect(schema.safeParse("9".repeat(400)).success).toBe(false);
  });
});

describe("numbers in requests", () => {
  it("refuses a chunk index written as 1e0, 0x1 or ' 1' with invalid_chunk_index and records nothing", async () => {
    const body = bytes(10, 3);
    const up = await createUpload({ size: body.length });
    for (const n of ["1e0", "0x1", "%201", "1%20", "+1", "1.0"]) {
      const res = await putChunk(up, n as unknown as number, body);
      expect(res.status, n).toBe(400);
      expect(await json(res), n).toMatchObject({ error: { code: "invalid_chunk_index" } });
    }
    expect(await json(await api(`/api/uploads/${up.videoId}`, { headers: auth(up) }))).toMatchObject({
      received: [],
    });
    expect((await putChunk(up, 1, body)).status).toBe(200);
  });

  it("refuses a `limit` written other than in decimal digits on listings and tag suggestions", async () => {
    for (const path of ["/api/videos", "/api/tags"]) {
      for (const limit of ["1e1", "0x10", "%201", "1.0", "+5", ""]) {
        const res = await api(`${path}?limit=${limit}`);
        expect(res.status, `${path} ${limit}`).toBe(400);
        expect(await json(res)).toMatchObject({ error: { code: "invalid_request", issues: [{ path: "limit" }] } });
      }
      expect((await api(`${path}?limit=5`)).status).toBe(200);
      expect((await api(path)).status).toBe(200);
    }
  });
});

// Anonymous storage abuse: one client creating uploads as fast as it can,
// each declaring as many bytes as it may. Creations are rate-limited per
// client (UPLOAD_RATE_LIMIT), and the bytes a client's unfinished uploads
// reserve are capped (MAX_RESERVED_BYTES_PER_CLIENT), counted by a keyed
// hash of its address, never the address itself.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { app } from "../app.ts";
import { api, auth, BASE, json, MiB, type Created } from "../testing/helpers.ts";
import { clientAddress, clientKey } from "./client.ts";

const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext;

/** POST /api/uploads from `ip`, declaring `size` bytes, to the Worker with `config` (or the test's own env). */
function create(ip: string, size: number, config?: Env): Promise<Response> {
  const request = new Request(`${BASE}/api/uploads`, {
    method: "POST",
    headers: { "content-type": "application/json", "cf-connecting-ip": ip },
    body: JSON.stringify({ filename: "big.mp4", size, contentType: "video/mp4" }),
  });
  return Promise.resolve(config ? app.fetch(request, config, ctx) : api("/api/uploads", request));
}

const capped = (bytes: number) => ({ ...env, MAX_RESERVED_BYTES_PER_CLIENT: String(bytes) }) as unknown as Env;

const uploadingBytes = async (key: string) =>
  (
    await env.DB.prepare(
      "SELECT coalesce(sum(size), 0) AS bytes FROM videos WHERE client_key = ? AND status = 'uploading'",
    )
      .bind(key)
      .first<{ bytes: number }>()
  )?.bytes;

describe("creating uploads from one client", () => {
  it("refuses creations past 100 a minute with 429 rate_limited and Retry-After, and not another client's", async () => {
    const ip = "203.0.113.7";
    // The limiter counts in windows aligned to the clock: a run that spans a
    // window's end may create up to 100 more before it is refused.
    let created = 0;
    let refused: Response | undefined;
    while (!refused && created <= 200) {
      const answers = await Promise.all(Array.from({ length: 25 }, () => create(ip, 10)));
      created += answers.filter((r) => r.status === 201).length;
      refused = answers.find((r) => r.status !== 201);
    }
    expect(created).toBeGreaterThanOrEqual(100);
    expect(created).toBeLessThanOrEqual(200);
    expect(refused?.status).toBe(429);
    expect(refused?.headers.get("retry-after")).toBe("60");
    expect(await json(refused!)).toMatchObject({ error: { code: "rate_limited", message: expect.any(String) } });
    expect((await create("203.0.113.8", 10)).status).toBe(201);
  });

  it("caps the bytes a client's unfinished uploads reserve, frees them on abort, and stores only a hash of the address", async () => {
    const ip = "198.51.100.23";
    const config = capped(100 * MiB);
    const first = await create(ip, 60 * MiB, config);
    expect(first.status).toBe(201);
    const up = await json<Created>(first);

    const over = await create(ip, 50 * MiB, config);
    expect(over.status).toBe(429);
    expect(await json(over)).toMatchObject({
      error: { code: "upload_quota_exceeded", reservedBytes: 60 * MiB, limitBytes: 100 * MiB },
    });
    // Another client is not held to this one's reservations.
    expect((await create("198.51.100.24", 50 * MiB, config)).status).toBe(201);

    // What is stored is a keyed hash, never the address.
    const row = await env.DB.prepare("SELECT client_key FROM videos WHERE id = ?")
      .bind(up.videoId)
      .first<{ client_key: string }>();
    expect(row?.client_key).toMatch(/^[0-9a-f]{32}$/);
    expect(row?.client_key).not.toContain(ip);

    // Aborting gives the bytes back.
    expect((await api(`/api/uploads/${up.videoId}`, { method: "DELETE", headers: auth(up) })).status).toBe(204);
    expect((await create(ip, 50 * MiB, config)).status).toBe(201);
  });

  it("never lets creations at the same moment take a client past its cap", async () => {
    const ip = "198.51.100.99";
    const answers = await Promise.all(Array.from({ length: 6 }, () => create(ip, 30 * MiB, capped(100 * MiB))));
    const statuses = answers.map((r) => r.status);
    expect(statuses.every((s) => s === 201 || s === 429)).toBe(true);
    expect(statuses.filter((s) => s === 201).length).toBeLessThanOrEqual(3);
    const key = await clientKey(ip, (env as unknown as { TRANSCODER_SECRET: string }).TRANSCODER_SECRET);
    expect(await uploadingBytes(key)).toBeLessThanOrEqual(100 * MiB);
  });
});

describe("clientAddress", () => {
  it("counts IPv4 clients by address and IPv6 clients by their /64", () => {
    expect(clientAddress("192.0.2.1")).toBe("192.0.2.1");
    expect(clientAddress("2001:db8:1:2:aaaa::1")).toBe("2001:db8:1:2::/64");
    expect(clientAddress("2001:0db8:0001:0002:ffff:ffff:ffff:ffff")).toBe("2001:db8:1:2::/64");
    expect(clientAddress("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(clientAddress(undefined)).toBe("unknown");
    expect(clientAddress("")).toBe("unknown");
  });
});

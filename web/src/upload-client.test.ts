// Runs inside workerd against the real Worker: the client's retries and
// resume, through a fetch that loses requests and responses on purpose.
import { describe, expect, it } from "vitest";
import { api, auth, bytes, json, MiB, sha256 } from "../../worker/testing/helpers.ts";
import { ApiError } from "./http.ts";
import { type UploadSession, upload } from "./upload-client.ts";

const endpoint = "http://reelay.test";
const direct: typeof fetch = (input, init) => api(new URL(String(input)).pathname, init);

async function sourceDigest(s: { videoId: string; uploadToken: string }) {
  const res = await api(`/api/videos/${s.videoId}/source`, { headers: auth(s) });
  return sha256(await res.arrayBuffer());
}

describe("upload client", () => {
  it("gets a byte-identical file through a network that drops and repeats requests", async () => {
    const file = bytes(21 * MiB + 7, 21);
    let puts = 0;
    const faults = { lostRequest: 0, lostResponse: 0, duplicated: 0 };
    const flaky: typeof fetch = async (input, init) => {
      if (init?.method !== "PUT") return direct(input, init);
      const k = puts++ % 5;
      if (k === 1) {
        faults.lostRequest++;
        throw new TypeError("network error before the server saw it");
      }
      if (k === 2) {
        faults.lostResponse++;
        await direct(input, init);
        throw new TypeError("network error after the server stored it");
      }
      if (k === 3) {
        faults.duplicated++;
        const [first] = await Promise.all([direct(input, init), direct(input, init)]);
        return first;
      }
      return direct(input, init);
    };
    const seen: number[] = [];
    const result = await upload({
      endpoint,
      fetch: flaky,
      file: new Blob([file]),
      filename: "flaky.mp4",
      contentType: "video/mp4",
      chunkSize: 5 * MiB,
      onProgress: (p) => seen.push(p.uploadedBytes),
    });
    expect(result.status).toBe("processing");
    expect(faults.lostRequest + faults.lostResponse + faults.duplicated).toBeGreaterThan(2);
    expect(seen.at(-1)).toBe(file.length);
    expect(await sourceDigest(result)).toBe(await sha256(file));
  });

  it("resumes after a crash by sending only the chunks the server lacks", async () => {
    const file = bytes(16 * MiB, 33);
    let session: UploadSession | undefined;
    const stop = new AbortController();
    let sent = 0;
    const crashing: typeof fetch = async (input, init) => {
      if (init?.method === "PUT" && ++sent > 2) stop.abort(new Error("tab closed"));
      return direct(input, { ...init, signal: stop.signal });
    };
    await expect(
      upload({
        endpoint,
        fetch: crashing,
        file: new Blob([file]),
        filename: "a.mp4",
        chunkSize: 5 * MiB,
        concurrency: 1,
        signal: stop.signal,
        onSession: (s) => (session = s),
      }),
    ).rejects.toThrow();
    expect(session).toBeDefined();
    const before = await json(await api(`/api/uploads/${session!.videoId}`, { headers: auth(session!) }));
    expect(before.received).toEqual([1, 2]);

    const resent: number[] = [];
    const counting: typeof fetch = (input, init) => {
      const m = /chunks\/(\d+)$/.exec(String(input));
      if (m) resent.push(Number(m[1]));
      return direct(input, init);
    };
    const result = await upload({
      endpoint,
      fetch: counting,
      file: new Blob([file]),
      filename: "a.mp4",
      resume: session,
    });
    expect(resent.sort()).toEqual([3, 4]);
    expect(await sourceDigest(result)).toBe(await sha256(file));
  });

  it("refuses to resume with a different file", async () => {
    const first = bytes(6 * MiB, 1);
    let session: UploadSession | undefined;
    const stop = new AbortController();
    await upload({
      endpoint,
      fetch: direct,
      file: new Blob([first]),
      filename: "a.mp4",
      chunkSize: 5 * MiB,
      signal: stop.signal,
      onSession: (s) => {
        session = s;
        stop.abort();
      },
    }).catch(() => {});
    const other = new Blob([bytes(7 * MiB, 2)]);
    const refused = await upload({ endpoint, fetch: direct, file: other, filename: "a.mp4", resume: session }).catch(
      (err: unknown) => err,
    );
    expect(refused).toBeInstanceOf(ApiError);
    expect(refused).toMatchObject({ code: "file_mismatch" });
  });
});

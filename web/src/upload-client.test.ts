// Runs inside workerd against the real Worker: the client's retries and
// resume, through a fetch that loses requests and responses on purpose.
import { describe, expect, it } from "vitest";
import { api, auth, bytes, json, MiB, sha256 } from "../../worker/testing/helpers.ts";
import { ApiError } from "./http.ts";
import { type UploadSession, upload } from "./upload-client.ts";

const endpoint = "http://reelay.test";
const toWorker: typeof fetch = (input, init) => {
  const url = new URL(String(input));
  return api(url.pathname + url.search, init);
};

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
      if (init?.method !== "PUT") return toWorker(input, init);
      const k = puts++ % 5;
      if (k === 1) {
        faults.lostRequest++;
        throw new TypeError("network error before the server saw it");
      }
      if (k === 2) {
        faults.lostResponse++;
        await toWorker(input, init);
        throw new TypeError("network error after the server stored it");
      }
      if (k === 3) {
        faults.duplicated++;
        const [first] = await Promise.all([toWorker(input, init), toWorker(input, init)]);
        return first;
      }
      return toWorker(input, init);
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
      return toWorker(input, { ...init, signal: stop.signal });
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
      return toWorker(input, init);
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

  it("creates a direct link's one upload with the link alone, and refuses a second use", async () => {
    const minted = await json(
      await api("/api/direct-uploads", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ title: "From the link" }),
      }),
    );
    const capability = new URL(minted.uploadUrl).searchParams.get("direct")!;
    const file = bytes(6 * MiB, 5);
    const creations: { url: string; authorization: string | null }[] = [];
    const recording: typeof fetch = (input, init) => {
      if (init?.method === "POST" && new URL(String(input)).pathname === "/api/uploads")
        creations.push({ url: String(input), authorization: new Headers(init.headers).get("authorization") });
      return toWorker(input, init);
    };
    const options = {
      endpoint,
      fetch: recording,
      file: new Blob([file]),
      filename: "a.mp4",
      chunkSize: 5 * MiB,
      direct: capability,
      // Never sent beside a link: the link is the credential.
      uploaderToken: "the-uploaders-own",
    };
    const result = await upload(options);
    expect(result).toMatchObject({ videoId: minted.videoId, status: "processing" });
    expect(creations).toEqual([{ url: minted.uploadUrl.replace(/^https?:\/\/[^/]+/, endpoint), authorization: null }]);
    expect(await sourceDigest(result)).toBe(await sha256(file));

    const again = await upload(options).catch((err: unknown) => err);
    expect(again).toBeInstanceOf(ApiError);
    expect(again).toMatchObject({ code: "direct_upload_used", status: 409 });
  });

  it("refuses to resume with a different file", async () => {
    const first = bytes(6 * MiB, 1);
    let session: UploadSession | undefined;
    const stop = new AbortController();
    await upload({
      endpoint,
      fetch: toWorker,
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
    const refused = await upload({ endpoint, fetch: toWorker, file: other, filename: "a.mp4", resume: session }).catch(
      (err: unknown) => err,
    );
    expect(refused).toBeInstanceOf(ApiError);
    expect(refused).toMatchObject({ code: "file_mismatch" });
  });
});

// Every state change of a video is an event, emitted once by its object, in
// order (its `sequence` counts 1, 2, 3, … per video), and listed by
// GET /api/events (administrator) oldest first, with a cursor that never
// skips or repeats an event, even while events are being written. The
// transcoder is played by the test (testing/processing.ts); the alarm runs
// by `runDurableObjectAlarm`.
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, inject, it } from "vitest";
import { expectError } from "../../test/expect-error.ts";
import { app } from "../app.ts";
import { EventSchema, type VideoEvent } from "../contracts/events.ts";
import { readConfig } from "../config.ts";
import { api, auth, chunkOf, createUpload, json, MiB, bytes, putChunk, testClientIp } from "../testing/helpers.ts";
import {
  event,
  metadata,
  processingVideo,
  publishPlayable,
  put,
  startJob,
  until,
  uploadedVideo,
  type Job,
} from "../testing/processing.ts";
import { inVideoObject, sweepDue, videoStub } from "../testing/video-object.ts";
import type { VideoObject } from "../video-object/video-object.ts";

const ADMIN_TOKEN = "admin-token-for-events-0123";
const withAdmin = { ...env, ADMIN_TOKEN } as Env;
const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext;

/** A request to the app as the administrator (or with `token`), on an env that has ADMIN_TOKEN. */
const asAdmin = (path: string, init: RequestInit = {}, token: string | null = ADMIN_TOKEN) =>
  app.fetch(
    new Request(`http://reelay.test${path}`, {
      ...init,
      headers: { ...(token === null ? {} : { authorization: `Bearer ${token}` }), ...init.headers },
    }),
    withAdmin,
    ctx,
  );

const events = (query: string, token: string | null = ADMIN_TOKEN) => asAdmin(`/api/events${query}`, {}, token);

type Page = { items: VideoEvent[]; nextCursor: string };

async function page(query: string): Promise<Page> {
  const res = await events(query);
  expect(res.status, await res.clone().text()).toBe(200);
  return json<Page>(res);
}

/** The video's events, oldest first, each read by the contract's schema. */
async function eventsOf(videoId: string): Promise<VideoEvent[]> {
  const { items } = await page(`?videoId=${videoId}&limit=1000`);
  return items.map((e) => EventSchema.parse(e));
}

const typesOf = async (videoId: string) => (await eventsOf(videoId)).map((e) => e.type);

/** The video's events are numbered 1..n in the order they are listed, each id once. */
async function expectInOrder(videoId: string): Promise<VideoEvent[]> {
  const list = await eventsOf(videoId);
  expect(list.map((e) => e.sequence)).toEqual(list.map((_, i) => i + 1));
  expect(new Set(list.map((e) => e.id)).size).toBe(list.length);
  for (const e of list) expect(e.videoId).toBe(videoId);
  return list;
}

/** Waits until the video's events are these types (events an alarm made leave with the next alarm). */
async function untilTypes(videoId: string, types: string[]): Promise<void> {
  let last: string[] = [];
  await until(`the events are ${types.join(", ")}`, async () => {
    last = await typesOf(videoId);
    return last.length >= types.length;
  }).catch((err: Error) => {
    throw new Error(`${err.message}; they are ${last.join(", ")}`);
  });
  expect(last).toEqual(types);
}

/** Metadata of a finished ladder of two rungs. */
const ladder = {
  ...metadata,
  renditions: ["360p", "720p"].map((name, i) => ({
    ...metadata.renditions[0]!,
    name,
    width: i === 0 ? 640 : 1280,
    height: i === 0 ? 360 : 720,
  })),
};

async function publishLadder(job: Job): Promise<void> {
  for (const rung of ["360p", "720p"])
    for (const file of ["init.mp4", "seg_00001.m4s", "index.m3u8"])
      expect((await put(job, `${rung}/${file}`, `bytes of ${rung}/${file}`)).status).toBe(204);
  expect((await put(job, "master.m3u8", "#EXTM3U\n")).status).toBe(204);
  expect((await event(job, { type: "completed", metadata: ladder })).status).toBe(200);
}

/** Moves the video's last change back by `ms` and wakes its alarm now, as if that long had passed. */
async function aged(videoId: string, ms: number) {
  await runInDurableObject(videoStub(videoId), (_o: VideoObject, state) => {
    state.storage.sql.exec("UPDATE video SET updated_at = updated_at - ?", ms);
    return state.storage.setAlarm(Date.now());
  });
  return videoStub(videoId);
}

const deleteVideo = (videoId: string, token: string) =>
  api(`/api/videos/${videoId}`, { method: "DELETE", headers: { authorization: `Bearer ${token}` } });

const patchVideo = (videoId: string, token: string, body: Record<string, unknown>) =>
  api(`/api/videos/${videoId}`, {
    method: "PATCH",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });

describe("a video's events", () => {
  it("records each state change once, in order, with the video's fields at that moment", async () => {
    const { up, job } = await processingVideo({ title: "Events" });
    await publishPlayable(job);
    // The transcoder's callbacks are retried: a repeated one emits nothing again.
    expect((await event(job, { type: "playable", metadata })).status).toBe(200);
    await publishLadder(job);
    expect([200, 409]).toContain((await event(job, { type: "completed", metadata: ladder })).status);

    const list = await expectInOrder(up.videoId);
    expect(list.map((e) => e.type)).toEqual([
      "video.upload.created",
      "video.upload.completed",
      "video.processing.started",
      "video.playable",
      "video.rendition.ready",
      "video.rendition.ready",
      "video.rendition.ready",
      "video.ready",
    ]);
    const [created, completed, started, playable, source, r360, r720, ready] = list;
    expect(created).toMatchObject({ data: { origin: "api" }, video: { title: "Events", status: "uploading" } });
    // The upload is complete: the video is processing, not still uploading.
    expect(completed!.video).toMatchObject({ status: "processing" });
    expect(started!.video).toMatchObject({ status: "processing" });
    expect(playable!.video).toMatchObject({ status: "ready" });
    expect([source, r360, r720].map((e) => (e!.data.rendition as { name: string }).name)).toEqual([
      "source",
      "360p",
      "720p",
    ]);
    expect(r720!.data.rendition).toMatchObject({ name: "720p", width: 1280, height: 720 });
    expect(ready!.video).toMatchObject({ status: "ready" });
    expect(ready!.video).not.toHaveProperty("progress");
    for (const e of list) expect(Date.parse(e.timestamp)).toBeGreaterThan(Date.now() - 60_000);
    expect(new Set(list.map((e) => e.id)).size).toBe(list.length);
  });

  it("emits the upload's completion once when two completions arrive at once", async () => {
    const { up } = await uploadedVideo();
    const [a, b] = await Promise.all(
      [1, 2].map(() => api(`/api/uploads/${up.videoId}/complete`, { method: "POST", headers: auth(up) })),
    );
    expect([a!.status, b!.status]).toEqual([202, 202]);
    // And once more after the fact, as a client that lost the answer would.
    expect((await api(`/api/uploads/${up.videoId}/complete`, { method: "POST", headers: auth(up) })).status).toBe(202);
    const types = (await expectInOrder(up.videoId)).map((e) => e.type);
    expect(types.filter((t) => t === "video.upload.completed")).toHaveLength(1);
    expect(types.slice(0, 2)).toEqual(["video.upload.created", "video.upload.completed"]);
  });

  it("emits the ladder's completion once when the transcoder reports it twice at once", async () => {
    const { up, job } = await processingVideo();
    await publishPlayable(job);
    for (const rung of ["360p", "720p"])
      for (const file of ["init.mp4", "seg_00001.m4s", "index.m3u8"])
        expect((await put(job, `${rung}/${file}`, "x")).status).toBe(204);
    const answers = await Promise.all([1, 2].map(() => event(job, { type: "completed", metadata: ladder })));
    expect(answers.map((r) => r.status)).toContain(200);
    const types = (await expectInOrder(up.videoId)).map((e) => e.type);
    expect(types.filter((t) => t === "video.ready")).toHaveLength(1);
    expect(types.filter((t) => t === "video.rendition.ready")).toHaveLength(3);
    expect(types.at(-1)).toBe("video.ready");
  });

  it("starts processing once across a second job after the watchdog, and a duplicated hand-off", async () => {
    const { up, job: first } = await processingVideo();
    await publishPlayable(first);
    await inVideoObject(up.videoId, (sql) => {
      sql.exec("UPDATE jobs SET heartbeat_at = ?", Date.now() - 60_000);
    });
    expect(await runDurableObjectAlarm(videoStub(up.videoId))).toBe(true);
    const second = await startJob(up.videoId, 2);
    expect(await videoStub(up.videoId).startJob(2)).toMatchObject({ start: false });
    await publishPlayable(second);
    await publishLadder(second);
    await until("the alarm's events are out", async () => (await typesOf(up.videoId)).at(-1) === "video.ready");
    expect((await expectInOrder(up.videoId)).map((e) => e.type)).toEqual([
      "video.upload.created",
      "video.upload.completed",
      "video.processing.started",
      "video.playable",
      "video.rendition.ready",
      "video.rendition.ready",
      "video.rendition.ready",
      "video.ready",
    ]);
  });

  it("fails once, with the transcoder's reason, and not for a failure that is retried", async () => {
    const { up, job } = await processingVideo();
    // Retryable: a second attempt follows, and the video has not failed.
    const retried = await event(job, { type: "failed", reason: "The transcoder ran out of disk.", retryable: true });
    expect(retried.status).toBe(200);
    expect(await typesOf(up.videoId)).not.toContain("video.failed");
    const second = await startJob(up.videoId, 2);
    const reason = "The file has no video stream (audio only).";
    expect((await event(second, { type: "failed", reason, retryable: false })).status).toBe(200);
    await expectError(event(second, { type: "failed", reason, retryable: false }), 409, "job_superseded");
    expect(await videoStub(up.videoId).startJob(3)).toMatchObject({ start: false });
    const list = await expectInOrder(up.videoId);
    expect(list.map((e) => e.type)).toEqual([
      "video.upload.created",
      "video.upload.completed",
      "video.processing.started",
      "video.failed",
    ]);
    expect(list.at(-1)).toMatchObject({ data: { reason }, video: { status: "failed", error: reason } });
  });

  it("tells of each edit with the fields as edited", async () => {
    const { up, job } = await processingVideo({ title: "Before" });
    await publishPlayable(job);
    expect((await patchVideo(up.videoId, up.uploadToken, { title: "After" })).status).toBe(200);
    expect((await patchVideo(up.videoId, up.uploadToken, { tags: ["dawn"], title: "After again" })).status).toBe(200);
    const list = await expectInOrder(up.videoId);
    const updates = list.filter((e) => e.type === "video.updated");
    expect(updates.map((e) => [e.video?.title, e.video?.tags])).toEqual([
      ["After", []],
      ["After again", ["dawn"]],
    ]);
    expect(list.slice(-2).map((e) => e.type)).toEqual(["video.updated", "video.updated"]);
    // A refused edit changes nothing, so it tells nothing.
    expect((await patchVideo(up.videoId, "not-the-token", { title: "Hijacked" })).status).toBe(401);
    expect((await patchVideo(up.videoId, up.uploadToken, { title: "" })).status).toBe(400);
    expect(await eventsOf(up.videoId)).toHaveLength(list.length);
  });

  it("ends an aborted upload with its abort, and its deletion once the grace has passed", async () => {
    const file = bytes(6 * MiB, 5);
    const up = await createUpload({ size: file.length, chunkSize: 5 * MiB });
    expect((await putChunk(up, 1, chunkOf(file, up, 1))).status).toBe(200);
    for (const _ of [1, 2])
      expect((await api(`/api/uploads/${up.videoId}`, { method: "DELETE", headers: auth(up) })).status).toBe(204);
    expect(await typesOf(up.videoId)).toEqual(["video.upload.created", "video.upload.aborted"]);

    const stub = await aged(up.videoId, readConfig(env).abandonedUploadGraceMs);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    await untilTypes(up.videoId, ["video.upload.created", "video.upload.aborted", "video.deleted"]);
    const deleted = (await expectInOrder(up.videoId)).at(-1)!;
    expect(deleted).toMatchObject({ video: null, data: { reason: expect.stringContaining("aborted") } });
  });

  it("ends an upload left idle with its expiry, emitted by the alarm", async () => {
    const file = bytes(6 * MiB, 6);
    const up = await createUpload({ size: file.length, chunkSize: 5 * MiB });
    await runInDurableObject(videoStub(up.videoId), (_o: VideoObject, state) => {
      state.storage.sql.exec("UPDATE video SET expires_at = ?", Date.now() - 1);
    });
    expect(await runDurableObjectAlarm(videoStub(up.videoId))).toBe(true);
    await untilTypes(up.videoId, ["video.upload.created", "video.upload.expired"]);
    expect((await eventsOf(up.videoId)).at(-1)!.video).toMatchObject({ status: "expired" });
    // An upload can be ended once: aborting it now tells nothing new.
    expect((await api(`/api/uploads/${up.videoId}`, { method: "DELETE", headers: auth(up) })).status).toBe(204);
    expect(await typesOf(up.videoId)).toEqual(["video.upload.created", "video.upload.expired"]);
  });

  it("ends with video.deleted, without the video, when deleted mid-processing, and tells nothing after", async () => {
    const { up, job } = await processingVideo();
    await publishPlayable(job);
    expect((await deleteVideo(up.videoId, up.uploadToken)).status).toBe(204);
    // Late callbacks, a late hand-off and a second deletion find nothing.
    await expectError(event(job, { type: "completed", metadata: ladder }), 409, "job_superseded");
    expect(await videoStub(up.videoId).startJob(2)).toMatchObject({ start: false });
    expect((await deleteVideo(up.videoId, up.uploadToken)).status).toBe(404);

    const list = await expectInOrder(up.videoId);
    expect(list.map((e) => e.type)).toEqual([
      "video.upload.created",
      "video.upload.completed",
      "video.processing.started",
      "video.playable",
      "video.rendition.ready",
      "video.deleted",
    ]);
    expect(list.at(-1)).toMatchObject({ video: null, data: {} });

    // The final sweep wipes the object once its events are out; none is added.
    expect(await runDurableObjectAlarm(await sweepDue(up.videoId))).toBe(true);
    expect((await eventsOf(up.videoId)).map((e) => e.id)).toEqual(list.map((e) => e.id));
  });

  it("tells of nothing after the deletion when the transcoder's completion races it", async () => {
    const { up, job } = await processingVideo();
    await publishPlayable(job);
    for (const file of ["360p/init.mp4", "360p/seg_00001.m4s", "360p/index.m3u8"])
      expect((await put(job, file, "x")).status).toBe(204);
    const [completed, deleted] = await Promise.all([
      event(job, { type: "completed", metadata: ladder }),
      deleteVideo(up.videoId, up.uploadToken),
    ]);
    expect(deleted.status).toBe(204);
    // Completed before the deletion, or refused after it: never a server error.
    expect([200, 409], await completed.clone().text()).toContain(completed.status);
    const list = await expectInOrder(up.videoId);
    expect(list.at(-1)).toMatchObject({ type: "video.deleted", video: null });
    expect(list.filter((e) => e.type === "video.deleted")).toHaveLength(1);
  });

  it("ends a video whose processing failed with its deletion once its source is no longer kept", async () => {
    const { up, job } = await processingVideo();
    const reason = "The file looks incomplete: it ends before its index.";
    expect((await event(job, { type: "failed", reason, retryable: false })).status).toBe(200);
    const stub = await aged(up.videoId, readConfig(env).failedSourceRetentionMs);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    await until("video.deleted is out", async () => (await typesOf(up.videoId)).at(-1) === "video.deleted");
    const list = await expectInOrder(up.videoId);
    expect(list.slice(-2).map((e) => e.type)).toEqual(["video.failed", "video.deleted"]);
  });

  it("fails an import whose URL cannot be fetched, with the reason", async () => {
    const name = crypto.randomUUID();
    const standIn = inject("transcoderUrl");
    const origin = await fetch(`${standIn}/stand-in/origins/${name}`, {
      method: "PUT",
      headers: { "stand-in-origin": JSON.stringify({ status: 404 }) },
      body: new Uint8Array(0),
    });
    expect(origin.status).toBe(204);
    const res = await api("/api/imports", {
      method: "POST",
      headers: { "content-type": "application/json", "cf-connecting-ip": testClientIp() },
      body: JSON.stringify({ url: `${standIn}/origins/${name}/clip.mp4` }),
    });
    expect(res.status).toBe(202);
    const { videoId } = await json<{ videoId: string }>(res);
    await until("the import failed", async () => (await typesOf(videoId)).includes("video.failed"));
    const list = await expectInOrder(videoId);
    expect(list.map((e) => e.type)).toEqual(["video.upload.created", "video.failed"]);
    expect(list[0]).toMatchObject({ data: { origin: "import" }, video: { status: "importing" } });
    expect(list[1]).toMatchObject({
      data: { reason: "The URL answered HTTP 404 Not Found." },
      video: { status: "failed" },
    });
  });

  it("sends events a failed flush left behind when the alarm wakes", async () => {
    const { up } = await uploadedVideo();
    const stranded = {
      id: `evt_${crypto.randomUUID().replaceAll("-", "")}`,
      type: "video.updated",
      timestamp: new Date().toISOString(),
      videoId: up.videoId,
      sequence: 2,
      data: {},
      video: null,
    };
    // As a flush that could not reach D1 leaves it: in the outbox, tried again later.
    await runInDurableObject(videoStub(up.videoId), (_o: VideoObject, state) => {
      state.storage.sql.exec(
        "INSERT INTO outbox (sequence, id, body, created_at) VALUES (2, ?, ?, ?)",
        stranded.id,
        JSON.stringify(stranded),
        Date.now(),
      );
      state.storage.sql.exec("UPDATE event_state SET last_sequence = 2, retry_at = ?", Date.now() - 1);
      return state.storage.setAlarm(Date.now());
    });
    expect(await runDurableObjectAlarm(videoStub(up.videoId))).toBe(true);
    expect((await eventsOf(up.videoId)).map((e) => e.id).at(-1)).toBe(stranded.id);
    expect(await inVideoObject(up.videoId, (sql) => sql.exec("SELECT count(*) AS n FROM outbox").one().n)).toBe(0);
    // The next event is numbered after it.
    expect((await patchVideo(up.videoId, up.uploadToken, { title: "Next" })).status).toBe(200);
    expect((await expectInOrder(up.videoId)).map((e) => e.type)).toEqual([
      "video.upload.created",
      "video.updated",
      "video.updated",
    ]);
  });
});

describe("GET /api/events", () => {
  /** Every event after `cursor`, `limit` at a time, calling `between` after each page; and the last cursor. */
  async function pageThrough(cursor: string, limit: number, between: () => Promise<void> = async () => {}) {
    const seen: VideoEvent[] = [];
    for (let after = cursor; ; ) {
      const { items, nextCursor } = await page(`?after=${after}&limit=${limit}`);
      expect(items.length).toBeLessThanOrEqual(limit);
      seen.push(...items);
      if (items.length === 0) {
        expect(nextCursor).toBe(after);
        return { seen, cursor: after };
      }
      expect(Number(nextCursor)).toBeGreaterThan(Number(after));
      after = nextCursor;
      await between();
    }
  }

  it("pages oldest first without gaps or repeats while new events are written", async () => {
    const { cursor: start } = await pageThrough("0", 1000);
    const a = await createUpload({ size: 10, title: "A" });
    const b = await createUpload({ size: 10, title: "B" });
    let writes = 0;
    const { seen, cursor } = await pageThrough(start, 2, async () => {
      if (writes >= 6) return;
      writes++;
      const up = writes % 2 ? a : b;
      expect((await patchVideo(up.videoId, up.uploadToken, { title: `edit ${writes}` })).status).toBe(200);
    });
    expect(writes).toBe(6);
    // Everything written since `start`, read in one go afterwards, is what the pages showed, in the same order.
    const all = await page(`?after=${start}&limit=1000`);
    expect(seen.map((e) => e.id)).toEqual(all.items.map((e) => e.id));
    expect(all.nextCursor).toBe(cursor);
    expect(new Set(seen.map((e) => e.id)).size).toBe(seen.length);
    for (const up of [a, b]) {
      const own = seen.filter((e) => e.videoId === up.videoId);
      expect(own.map((e) => e.sequence)).toEqual([1, 2, 3, 4]);
      expect(own.map((e) => e.type)).toEqual([
        "video.upload.created",
        "video.updated",
        "video.updated",
        "video.updated",
      ]);
    }
    expect(seen.filter((e) => e.videoId === a.videoId).map((e) => e.video?.title)).toEqual([
      "A",
      "edit 1",
      "edit 3",
      "edit 5",
    ]);
  });

  it("filters by type and by video, and pages each filter by its own cursor", async () => {
    const a = await createUpload({ size: 10, title: "A" });
    const b = await createUpload({ size: 10, title: "B" });
    for (const up of [a, b]) expect((await patchVideo(up.videoId, up.uploadToken, { title: "x" })).status).toBe(200);

    const updatesOfA = await page(`?type=video.updated&videoId=${a.videoId}`);
    expect(updatesOfA.items.map((e) => [e.type, e.videoId])).toEqual([["video.updated", a.videoId]]);
    const updates = await page("?type=video.updated&limit=1000");
    expect(updates.items.every((e) => e.type === "video.updated")).toBe(true);
    expect(updates.items.map((e) => e.videoId)).toEqual(expect.arrayContaining([a.videoId, b.videoId]));

    const first = await page(`?videoId=${b.videoId}&limit=1`);
    expect(first.items.map((e) => e.type)).toEqual(["video.upload.created"]);
    const second = await page(`?videoId=${b.videoId}&limit=1&after=${first.nextCursor}`);
    expect(second.items.map((e) => e.type)).toEqual(["video.updated"]);
    const none = await page(`?videoId=${b.videoId}&after=${second.nextCursor}`);
    expect(none).toEqual({ items: [], nextCursor: second.nextCursor });
    expect(await page("?videoId=no-such-video")).toEqual({ items: [], nextCursor: "0" });
  });

  it("refuses a cursor it did not give out, and a bad limit or type", async () => {
    for (const after of ["abc", "-1", "1.5", "1e3", "9".repeat(16)])
      await expectError(events(`?after=${encodeURIComponent(after)}`), 400, "invalid_cursor");
    for (const query of ["?limit=0", "?limit=1001", "?limit=x", "?type=video.exploded"])
      await expectError(events(query), 400, "invalid_request");
  });

  it("refuses anyone but the administrator", async () => {
    await expectError(events("", null), 401, "missing_token");
    await expectError(events("", "nope"), 401, "invalid_token");
    // A video's own upload token is no administrator's.
    const up = await createUpload({ size: 10 });
    await expectError(events("", up.uploadToken), 401, "invalid_token");
    // Without ADMIN_TOKEN configured, nobody is.
    await expectError(
      api("/api/events", { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }),
      401,
      "invalid_token",
    );
  });
});

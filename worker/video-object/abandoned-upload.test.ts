// An aborted or expired upload leaves nothing for ever: once its grace
// (ABANDONED_UPLOAD_GRACE_SECONDS) has passed, the video's object's alarm
// deletes its D1 row and the object's storage, as the final sweep does for
// a deleted video. A video whose processing failed goes the same way after
// FAILED_SOURCE_RETENTION_SECONDS, source and outputs too.
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { readConfig } from "../config.ts";
import { api, auth, bytes, chunkOf, createUpload, MiB, putChunk } from "../testing/helpers.ts";
import { event, processingVideo, put } from "../testing/processing.ts";
import { videoStub } from "../testing/video-object.ts";
import type { VideoObject } from "./video-object.ts";

const bucketKeys = async (prefix: string) => (await env.VIDEOS.list({ prefix })).objects.map((o) => o.key);
const d1Row = (videoId: string) => env.DB.prepare("SELECT status FROM videos WHERE id = ?").bind(videoId).first();

/** The object's own tables and its alarm. */
const stored = (videoId: string) =>
  runInDurableObject(videoStub(videoId), async (_o: VideoObject, state) => ({
    tables: state.storage.sql
      .exec<{ name: string }>(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\'",
      )
      .toArray().length,
    alarm: await state.storage.getAlarm(),
  }));

/** Moves the video's last change back by `ms`, as if that long had passed. */
const ended = (videoId: string, ms: number) =>
  runInDurableObject(videoStub(videoId), (_o: VideoObject, state) => {
    state.storage.sql.exec("UPDATE video SET updated_at = updated_at - ?", ms);
  });

describe("an abandoned upload", () => {
  it.each(["aborted", "expired"] as const)(
    "is deleted, D1 row and object state, once its grace has passed after it was %s",
    async (how) => {
      const file = bytes(6 * MiB, 9);
      const up = await createUpload({ size: file.length, chunkSize: 5 * MiB });
      expect((await putChunk(up, 1, chunkOf(file, up, 1))).status).toBe(200);
      if (how === "aborted") {
        expect((await api(`/api/uploads/${up.videoId}`, { method: "DELETE", headers: auth(up) })).status).toBe(204);
      } else {
        await runInDurableObject(videoStub(up.videoId), (_o: VideoObject, state) => {
          state.storage.sql.exec("UPDATE video SET expires_at = ?", Date.now() - 1);
        });
        expect(await runDurableObjectAlarm(videoStub(up.videoId))).toBe(true);
      }
      expect(await d1Row(up.videoId)).toMatchObject({ status: how });
      const grace = readConfig(env).abandonedUploadGraceMs;
      expect((await stored(up.videoId)).alarm).not.toBeNull();

      // Within its grace the alarm changes nothing (the owner can still see
      // what happened) but wakes again when the grace ends.
      expect(await runDurableObjectAlarm(videoStub(up.videoId))).toBe(true);
      expect(await d1Row(up.videoId)).toMatchObject({ status: how });
      expect((await stored(up.videoId)).alarm).toBeGreaterThan(Date.now() + grace - 60_000);

      await ended(up.videoId, grace);
      await runInDurableObject(videoStub(up.videoId), (_o: VideoObject, state) => state.storage.setAlarm(Date.now()));
      expect(await runDurableObjectAlarm(videoStub(up.videoId))).toBe(true);
      expect(await d1Row(up.videoId)).toBeNull();
      expect(await stored(up.videoId)).toEqual({ tables: 0, alarm: null });
      expect((await api(`/api/uploads/${up.videoId}`, { headers: auth(up) })).status).toBe(404);
      expect((await api(`/api/videos/${up.videoId}`)).status).toBe(404);
    },
  );
});

describe("a video whose processing failed", () => {
  it("keeps its source for its owner until FAILED_SOURCE_RETENTION_SECONDS, then is deleted with every object", async () => {
    const { up, job } = await processingVideo();
    expect((await put(job, "source/seg_00001.m4s", "a segment from before the failure")).status).toBe(204);
    const reason = "The file looks incomplete: it ends before its index.";
    expect((await event(job, { type: "failed", reason, retryable: false })).status).toBe(200);
    expect(await d1Row(up.videoId)).toMatchObject({ status: "failed" });
    const retention = readConfig(env).failedSourceRetentionMs;

    // Within its retention the owner can still fetch the source.
    expect(await runDurableObjectAlarm(videoStub(up.videoId))).toBe(true);
    expect((await api(`/api/videos/${up.videoId}/source`, { headers: auth(up) })).status).toBe(200);
    expect((await stored(up.videoId)).alarm).toBeGreaterThan(Date.now() + retention - 60_000);

    await ended(up.videoId, retention);
    await runInDurableObject(videoStub(up.videoId), (_o: VideoObject, state) => state.storage.setAlarm(Date.now()));
    expect(await runDurableObjectAlarm(videoStub(up.videoId))).toBe(true);
    expect(await bucketKeys(`videos/${up.videoId}/`)).toEqual([]);
    expect(await d1Row(up.videoId)).toBeNull();
    expect(await stored(up.videoId)).toEqual({ tables: 0, alarm: null });
    expect((await api(`/api/videos/${up.videoId}`)).status).toBe(404);
  });
});

// Objects created before the storage was versioned: version 1's tables, no
// version table. Each test leaves a video's object in that state, restarts
// it as a deploy of this code would, and checks that what it held survived
// the upgrade and still works through the public API.
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { sha256Hex } from "../crypto/tokens.ts";
import { insertVideo } from "../db/videos.ts";
import { newJobId, newVideoId, sourceKey } from "../storage/keys.ts";
import { api, auth, bytes, chunkOf, json, MiB, putChunk, sha256 } from "../testing/helpers.ts";
import {
  event,
  jobApi,
  jobsReceived,
  publishPlayable,
  SECRET,
  scriptTranscoder,
  until,
} from "../testing/processing.ts";
import { inVideoObject, videoStub } from "../testing/video-object.ts";
import { signJobToken } from "../contracts/job-token.ts";
import { MIGRATIONS } from "./migrations.ts";
import type { VideoObject } from "./video-object.ts";

type Row = [query: string, ...bindings: SqlStorageValue[]];

/**
 * Replaces the object's storage with what the unversioned code left (its
 * schema is migration 1, by that migration's contract) holding `rows`, then
 * restarts the object so that the next request opens it afresh.
 */
async function storedUnversioned(videoId: string, rows: Row[], alarmAt?: number): Promise<void> {
  await runInDurableObject(videoStub(videoId), async (_o: VideoObject, state) => {
    await state.storage.deleteAll();
    state.storage.sql.exec(MIGRATIONS[0]!);
    for (const [query, ...bindings] of rows) state.storage.sql.exec(query, ...bindings);
    if (alarmAt !== undefined) await state.storage.setAlarm(alarmAt);
  });
  await runInDurableObject(videoStub(videoId), (_o: VideoObject, state) => state.abort("restarted by a deploy")).catch(
    () => {},
  );
}

/** The row the unversioned code wrote in its `upload` table. */
function uploadRow(fields: {
  videoId: string;
  r2UploadId: string;
  tokenHash: string;
  size: number;
  chunkSize: number;
  totalChunks: number;
  status: string;
  jobSent: boolean;
  now: number;
}): Row {
  const f = fields;
  return [
    `INSERT INTO upload (id, video_id, r2_key, r2_upload_id, token_hash, filename, content_type, size, chunk_size,
       total_chunks, status, job_sent, created_at, updated_at, expires_at, ttl_ms)
     VALUES (1, ?, ?, ?, ?, 'old.mp4', 'video/mp4', ?, ?, ?, ?, ?, ?, ?, ?, 86400000)`,
    f.videoId,
    sourceKey(f.videoId),
    f.r2UploadId,
    f.tokenHash,
    f.size,
    f.chunkSize,
    f.totalChunks,
    f.status,
    f.jobSent ? 1 : 0,
    f.now,
    f.now,
    f.now + 86_400_000,
  ];
}

async function d1Row(videoId: string, size: number, status: "uploading" | "processing", now: number) {
  await insertVideo(env.DB, {
    id: videoId,
    title: "From before versioning",
    description: "",
    tags: [],
    visibility: "public",
    filename: "old.mp4",
    size,
    contentType: "video/mp4",
    status,
    createdAt: now,
    updatedAt: now,
  });
}

const schemaOf = (videoId: string) =>
  inVideoObject(videoId, (sql) => ({
    versions: sql
      .exec<{ version: number }>("SELECT version FROM schema_migrations ORDER BY version")
      .toArray()
      .map((r) => r.version),
    tables: sql
      .exec<{ name: string }>(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\' ORDER BY name",
      )
      .toArray()
      .map((r) => r.name),
  }));

describe("an object created before its storage was versioned", () => {
  it("is upgraded mid-upload: its chunks are still recorded, and it takes the rest and completes", async () => {
    const videoId = newVideoId();
    const up = { videoId, uploadToken: "an-upload-token-from-before-versioning", chunkSize: 5 * MiB };
    const file = bytes(6 * MiB, 21);
    const now = Date.now();
    const multipart = await env.VIDEOS.createMultipartUpload(sourceKey(videoId), {
      httpMetadata: { contentType: "video/mp4" },
    });
    const first = chunkOf(file, up, 1);
    const part = await multipart.uploadPart(1, first);
    await d1Row(videoId, file.length, "uploading", now);
    await storedUnversioned(videoId, [
      uploadRow({
        videoId,
        r2UploadId: multipart.uploadId,
        tokenHash: await sha256Hex(up.uploadToken),
        size: file.length,
        chunkSize: up.chunkSize,
        totalChunks: 2,
        status: "uploading",
        jobSent: false,
        now,
      }),
      [
        "INSERT INTO chunks (n, size, sha256, etag, recorded_at) VALUES (1, ?, ?, ?, ?)",
        first.length,
        await sha256(first),
        part.etag,
        now,
      ],
    ]);

    expect(await json(await api(`/api/uploads/${videoId}`, { headers: auth(up) }))).toMatchObject({
      videoId,
      status: "uploading",
      size: file.length,
      totalChunks: 2,
      received: [1],
    });
    expect(await schemaOf(videoId)).toEqual({
      versions: [1, 2, 3, 4, 5, 6, 7, 8],
      tables: [
        "chunks",
        "contended",
        "direct_upload",
        "emitted",
        "event_state",
        "jobs",
        "leases",
        "outbox",
        "package",
        "schema_migrations",
        "spans",
        "tombstone",
        "video",
      ],
    });
    expect(await json(await putChunk(up, 2, chunkOf(file, up, 2)))).toMatchObject({ chunk: 2, received: 2 });
    const done = await api(`/api/uploads/${videoId}/complete`, { method: "POST", headers: auth(up) });
    expect(await json(done)).toEqual({ videoId, status: "processing" });
    const source = await api(`/api/videos/${videoId}/source`, { headers: auth(up) });
    expect(await sha256(await source.arrayBuffer())).toBe(await sha256(file));
  });

  it("is upgraded while a job runs: the job is still current, and its callbacks still count", async () => {
    const videoId = newVideoId();
    const file = bytes(1000, 22);
    const now = Date.now();
    const jobId = newJobId(1);
    await env.VIDEOS.put(sourceKey(videoId), file);
    await d1Row(videoId, file.length, "processing", now);
    await storedUnversioned(videoId, [
      uploadRow({
        videoId,
        r2UploadId: "merged",
        tokenHash: await sha256Hex("owner-token"),
        size: file.length,
        chunkSize: 5 * MiB,
        totalChunks: 1,
        status: "processing",
        jobSent: true,
        now,
      }),
      [
        "INSERT INTO jobs (job_id, attempt, state, created_at, heartbeat_at, progress) VALUES (?, 1, 'running', ?, ?, 0.25)",
        jobId,
        now,
        now,
      ],
      ["UPDATE processing SET current_job = ? WHERE id = 1", jobId],
    ]);

    const job = { jobId, videoId, token: await signJobToken(SECRET, { videoId, jobId, exp: Date.now() + 60_000 }) };
    expect(await sha256(await (await jobApi(job, "/source")).arrayBuffer())).toBe(await sha256(file));
    expect((await event(job, { type: "progress", progress: 0.5 })).status).toBe(200);
    expect(await json(await api(`/api/videos/${videoId}`))).toMatchObject({ status: "processing", progress: 0.5 });
    await publishPlayable(job);
    expect(await json(await api(`/api/videos/${videoId}`))).toMatchObject({ status: "ready" });
  });

  it("is upgraded with a hand-off waiting, which its alarm offers again", async () => {
    const videoId = newVideoId();
    const now = Date.now();
    const deferred = newJobId(1);
    await env.VIDEOS.put(sourceKey(videoId), bytes(1000, 23));
    await d1Row(videoId, 1000, "processing", now);
    await scriptTranscoder(videoId, [202]);
    await storedUnversioned(
      videoId,
      [
        uploadRow({
          videoId,
          r2UploadId: "merged",
          tokenHash: await sha256Hex("owner-token"),
          size: 1000,
          chunkSize: 5 * MiB,
          totalChunks: 1,
          status: "processing",
          jobSent: true,
          now,
        }),
        [
          "INSERT INTO jobs (job_id, attempt, state, created_at, heartbeat_at) VALUES (?, 1, 'deferred', ?, ?)",
          deferred,
          now - 10_000,
          now - 10_000,
        ],
        ["UPDATE processing SET current_job = ? WHERE id = 1", deferred],
      ],
      now + 3000,
    );

    expect(await runDurableObjectAlarm(videoStub(videoId))).toBe(true);
    await until("the hand-off is offered again", async () => (await jobsReceived(videoId)).length === 1);
    expect((await jobsReceived(videoId))[0]).toMatchObject({ videoId, attempt: 1 });
  });
});

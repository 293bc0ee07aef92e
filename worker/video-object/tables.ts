/**
 * The video's Durable Object storage as drizzle tables. migrations.ts creates
 * and changes them; these definitions describe what its last migration leaves.
 */
import { integer, primaryKey, real, sqliteTable, text } from "drizzle-orm/sqlite-core";
import type { Ladder, Metadata, SpanRung } from "../contracts/job.ts";
import { VIDEO_STATUSES, VISIBILITIES } from "../contracts/vocabulary.ts";

/** How a video arrived: our upload API, a tus client, or an import from a URL. */
export const UPLOAD_ORIGINS = ["api", "tus", "import"] as const;
export type UploadOrigin = (typeof UPLOAD_ORIGINS)[number];

/**
 * `refused`: the hand-off failed (transcoder unreachable or erroring);
 * `deferred`: every transcoder was busy, which is not a failure.
 */
export const JOB_STATES = ["submitted", "running", "completed", "failed", "superseded", "refused", "deferred"] as const;

/** The video, its upload and its processing: one row (`id = 1`), absent before `create` and after deletion. */
export const video = sqliteTable("video", {
  id: integer("id").primaryKey(),
  videoId: text("video_id").notNull(),
  r2Key: text("r2_key").notNull(),
  /** The R2 multipart upload the chunks are parts of. */
  r2UploadId: text("r2_upload_id").notNull(),
  /** SHA-256 of the upload token; the token itself is never stored. */
  tokenHash: text("token_hash").notNull(),
  filename: text("filename").notNull(),
  contentType: text("content_type").notNull(),
  size: integer("size").notNull(),
  chunkSize: integer("chunk_size").notNull(),
  totalChunks: integer("total_chunks").notNull(),
  status: text("status", { enum: VIDEO_STATUSES }).notNull(),
  /** The first transcode job is queued; until then every `complete` tries again. */
  jobSent: integer("job_sent", { mode: "boolean" }).notNull().default(false),
  /** Epoch milliseconds. */
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
  /** An upload idle until then expires; every chunk moves it `ttlMs` later. */
  expiresAt: integer("expires_at").notNull(),
  ttlMs: integer("ttl_ms").notNull(),
  /** The job whose callbacks count. */
  currentJob: text("current_job"),
  /** The job whose outputs are served. */
  playbackJob: text("playback_job"),
  ladderComplete: integer("ladder_complete", { mode: "boolean" }).notNull().default(false),
  /** The playback job's first rendition is still being written (its playlists grow): it plays only as far as they go. */
  playbackGrowing: integer("playback_growing", { mode: "boolean" }).notNull().default(false),
  error: text("error"),
  /**
   * Epoch milliseconds after which the playback job's first-playable copy
   * (`source/`, the source copied into HLS) is deleted: the final ladder
   * replaced it, and viewers who were playing it have had that long.
   */
  firstCopyRetireAt: integer("first_copy_retire_at"),
  origin: text("origin", { enum: UPLOAD_ORIGINS }).notNull().default("api"),
  /** An import's source; its size is 0 until the server there says it. */
  importUrl: text("import_url"),
});

/**
 * A direct creator upload: the capability to create this video, once, before
 * `expiresAt`, up to `maxSizeBytes`. Kept once used, so a second use is told so.
 */
export const directUpload = sqliteTable("direct_upload", {
  id: integer("id").primaryKey(),
  /** SHA-256 of the capability's secret. */
  tokenHash: text("token_hash").notNull(),
  expiresAt: integer("expires_at").notNull(),
  maxSizeBytes: integer("max_size_bytes").notNull(),
  /** What the creator set; each wins over what the browser sends. */
  title: text("title"),
  description: text("description"),
  tags: text("tags", { mode: "json" }).$type<string[]>(),
  visibility: text("visibility", { enum: VISIBILITIES }),
  allowedOrigin: text("allowed_origin"),
  createdAt: integer("created_at").notNull(),
});

/** The chunks recorded, each an R2 part. */
export const chunks = sqliteTable("chunks", {
  n: integer("n").primaryKey(),
  size: integer("size").notNull(),
  sha256: text("sha256").notNull(),
  etag: text("etag").notNull(),
  recordedAt: integer("recorded_at").notNull(),
});

/** Which request is writing a chunk's part right now. */
export const leases = sqliteTable("leases", {
  n: integer("n").primaryKey(),
  leaseId: text("lease_id").notNull(),
  startedAt: integer("started_at").notNull(),
});

/** Chunks whose stale lease was taken over: their part may hold the old writer's bytes. */
export const contended = sqliteTable("contended", {
  n: integer("n").primaryKey(),
});

/** Every transcode job started, current or not. */
export const jobs = sqliteTable("jobs", {
  jobId: text("job_id").primaryKey(),
  attempt: integer("attempt").notNull(),
  state: text("state", { enum: JOB_STATES }).notNull(),
  createdAt: integer("created_at").notNull(),
  heartbeatAt: integer("heartbeat_at").notNull(),
  progress: real("progress").notNull().default(0),
  /** When the alarm offers a deferred or refused hand-off again; null once nobody waits for it. */
  retryAt: integer("retry_at"),
  /** Set when the first task is done and left a ladder to encode in spans: it, and what the first task reported. */
  ladder: text("ladder", { mode: "json" }).$type<{ ladder: Ladder; metadata: Metadata }>(),
});

/**
 * `queued`: waiting to be handed off (its queue message goes out at
 * `retryAt`: at once, after a busy transcoder's pause, after a failure's
 * backoff, or again if the message was lost); `submitted`: being handed off;
 * `running`: a transcoder took it; `done`: its result is in.
 */
export const SPAN_STATES = ["queued", "submitted", "running", "done"] as const;

/** One span of a job's ladder, a task of its own (ladder.ts plans them). */
export const spans = sqliteTable(
  "spans",
  {
    jobId: text("job_id").notNull(),
    n: integer("n").notNull(),
    startSec: real("start_sec").notNull(),
    /** Output frames; null for the last span, which runs to the end. */
    frames: integer("frames"),
    startNumber: integer("start_number").notNull(),
    durationSec: real("duration_sec").notNull(),
    /** Its current try: only that try's writes and callbacks count. */
    attempt: integer("attempt").notNull(),
    state: text("state", { enum: SPAN_STATES }).notNull(),
    heartbeatAt: integer("heartbeat_at").notNull(),
    /** Of the current try, 0..1. */
    progress: real("progress").notNull().default(0),
    retryAt: integer("retry_at"),
    /** Tries that failed or fell silent; past the job's attempts the video fails. */
    failures: integer("failures").notNull().default(0),
    /** Why the last try failed. */
    error: text("error"),
    result: text("result", { mode: "json" }).$type<SpanRung[]>(),
  },
  (t) => [primaryKey({ columns: [t.jobId, t.n] })],
);

/**
 * A package task's states, as a span's (`queued`, `submitted`, `running`,
 * `done`), and `failed` once out of tries: the downloads were not made, and
 * the video plays on.
 */
export const PACKAGE_STATES = ["queued", "submitted", "running", "done", "failed"] as const;

/** The downloads' package task of the playback job's ladder (downloads.ts): one row, replaced by a later job's. */
export const packageTask = sqliteTable("package", {
  id: integer("id").primaryKey(),
  jobId: text("job_id").notNull(),
  rung: text("rung").notNull(),
  /** The audio track the MP4 carries and the M4A is; null for a silent video. */
  audio: text("audio"),
  /** Its current try: only that try's reads, writes and callbacks count. */
  attempt: integer("attempt").notNull(),
  state: text("state", { enum: PACKAGE_STATES }).notNull(),
  heartbeatAt: integer("heartbeat_at").notNull(),
  /** When its queue message goes out again (`queued`); null while none waits. */
  retryAt: integer("retry_at"),
  failures: integer("failures").notNull().default(0),
  error: text("error"),
});

/** A deleted video, kept only until the final sweep of its R2 prefix. */
export const tombstone = sqliteTable("tombstone", {
  id: integer("id").primaryKey(),
  videoId: text("video_id").notNull(),
  deletedAt: integer("deleted_at").notNull(),
});

/** Events written with the change they report, until they are in D1 and on the events queue. */
export const outbox = sqliteTable("outbox", {
  sequence: integer("sequence").primaryKey(),
  id: text("id").notNull(),
  /** The event (contracts/events.ts `EventSchema`), JSON. */
  body: text("body").notNull(),
  createdAt: integer("created_at").notNull(),
});

/** Keys of the events that happen once per video, once emitted. */
export const emitted = sqliteTable("emitted", { key: text("key").primaryKey() });

export const eventState = sqliteTable("event_state", {
  id: integer("id").primaryKey(),
  lastSequence: integer("last_sequence").notNull(),
  /** When a flush that failed is tried again. */
  retryAt: integer("retry_at"),
});

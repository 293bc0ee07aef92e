/**
 * D1 schema: one row per video. The per-video Durable Object owns the upload
 * state and writes `status` here on every transition, so listings and search
 * never have to ask thousands of Durable Objects.
 */
import { sql } from "drizzle-orm";
import { index, integer, primaryKey, real, sqliteTable, text } from "drizzle-orm/sqlite-core";
import type { AudioTrack, Frames, Rendition, SourceWarning } from "../contracts/job.ts";
import type { Downloads } from "../contracts/video.ts";
import { VIDEO_STATUSES, VISIBILITIES } from "../contracts/vocabulary.ts";

export const videos = sqliteTable(
  "videos",
  {
    id: text("id").primaryKey(),
    title: text("title").notNull(),
    description: text("description").notNull().default(""),
    /** JSON array of strings. */
    tags: text("tags", { mode: "json" }).$type<string[]>().notNull().default(sql`'[]'`),
    filename: text("filename").notNull(),
    size: integer("size").notNull(),
    contentType: text("content_type").notNull(),
    status: text("status", { enum: VIDEO_STATUSES }).notNull(),
    /** `unlisted` videos play by link but are never listed or found. */
    visibility: text("visibility", { enum: VISIBILITIES }).notNull().default("public"),
    // Filled in by processing.
    progress: real("progress"),
    error: text("error"),
    durationSec: real("duration_sec"),
    width: integer("width"),
    height: integer("height"),
    frameRate: real("frame_rate"),
    videoCodec: text("video_codec"),
    audioCodec: text("audio_codec"),
    renditions: text("renditions", { mode: "json" }).$type<Rendition[]>(),
    /** JSON array, in the source's order; null for videos processed before tracks were recorded. */
    audioTracks: text("audio_tracks", { mode: "json" }).$type<AudioTrack[]>(),
    /** JSON array; null for videos processed before warnings were recorded. */
    warnings: text("warnings", { mode: "json" }).$type<SourceWarning[]>(),
    /** The transcode job whose outputs are served; set when the first rendition is playable. */
    playbackJob: text("playback_job"),
    /** True once the whole ladder is published. */
    ladderComplete: integer("ladder_complete", { mode: "boolean" }).notNull().default(false),
    /** The thumbnails and storyboard of the playback job's ladder; null until they are written. */
    frames: text("frames", { mode: "json" }).$type<Frames>(),
    /** The owner's pick of poster, seconds into the video; null: the poster the first task made. */
    posterTime: real("poster_time"),
    /** The owner allows `download.mp4` and `audio.m4a` (`PATCH … { downloadable }`). */
    downloadable: integer("downloadable", { mode: "boolean" }).notNull().default(false),
    /** The downloads made of the playback job's ladder, and where their making stands; null: none asked for. */
    downloads: text("downloads", { mode: "json" }).$type<Downloads>(),
    /**
     * The key generation a private video's playback tokens are signed at
     * (playback/playback-token.ts): rotating it revokes every earlier token.
     */
    playbackKeyGeneration: integer("playback_key_generation").notNull().default(1),
    /**
     * Who created the upload: a keyed hash of the client's address (never the
     * address itself), to cap the bytes one client's unfinished uploads
     * reserve. Null for videos from before it was recorded.
     */
    clientKey: text("client_key"),
    /** Epoch milliseconds. */
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    index("videos_status_created").on(t.status, t.createdAt),
    // Listings read only public, ready videos, newest/oldest or by duration, keyset by id.
    index("videos_listing_created").on(t.visibility, t.status, t.createdAt, t.id),
    index("videos_listing_duration").on(t.visibility, t.status, t.durationSec, t.id),
    // The bytes a client's unfinished uploads reserve: its `uploading` rows.
    index("videos_client_status").on(t.clientKey, t.status),
  ],
);

export type VideoRow = typeof videos.$inferSelect;
export type NewVideoRow = typeof videos.$inferInsert;

/**
 * Every event of every video, oldest first by `seq` (D1 assigns it as rows
 * are written, one writer at a time, so a cursor on it never skips a row
 * written later). Written by the video's Durable Object (its outbox), once
 * per event: `id` is unique.
 */
export const events = sqliteTable(
  "events",
  {
    seq: integer("seq").primaryKey({ autoIncrement: true }),
    id: text("id").notNull().unique(),
    type: text("type").notNull(),
    videoId: text("video_id"),
    /** The event's place among its video's events, from 1. */
    sequence: integer("sequence").notNull(),
    /** Epoch milliseconds. */
    createdAt: integer("created_at").notNull(),
    /** The event as delivered (contracts/events.ts `EventSchema`), JSON. */
    body: text("body").notNull(),
  },
  (t) => [
    index("events_video").on(t.videoId, t.seq),
    index("events_type").on(t.type, t.seq),
    index("events_created").on(t.createdAt),
  ],
);

/** Webhook subscriptions. The secret signs deliveries, so it is kept; it is shown only at creation. */
export const webhooks = sqliteTable("webhooks", {
  id: text("id").primaryKey(),
  url: text("url").notNull(),
  /** JSON array; null: every type. */
  eventTypes: text("event_types", { mode: "json" }).$type<string[]>(),
  description: text("description").notNull().default(""),
  secret: text("secret").notNull(),
  enabled: integer("enabled", { mode: "boolean" }).notNull().default(true),
  disabledReason: text("disabled_reason"),
  /** Epoch milliseconds since when every try has failed; null while deliveries succeed. */
  failingSince: integer("failing_since"),
  createdAt: integer("created_at").notNull(),
});

/** Every try to deliver an event to a subscription. */
export const webhookDeliveries = sqliteTable(
  "webhook_deliveries",
  {
    seq: integer("seq").primaryKey({ autoIncrement: true }),
    webhookId: text("webhook_id").notNull(),
    eventId: text("event_id").notNull(),
    eventType: text("event_type").notNull(),
    attempt: integer("attempt").notNull(),
    statusCode: integer("status_code"),
    latencyMs: integer("latency_ms").notNull(),
    error: text("error"),
    attemptedAt: integer("attempted_at").notNull(),
  },
  (t) => [index("webhook_deliveries_webhook").on(t.webhookId, t.seq)],
);

/**
 * A video's caption tracks, one per language: what the listing and the
 * master playlist name. The WebVTT itself is in R2 (storage/keys.ts
 * `captionKey`). Rows go with their video (a trigger, drizzle/0009_captions.sql).
 */
export const captions = sqliteTable(
  "captions",
  {
    videoId: text("video_id")
      .notNull()
      .references(() => videos.id, { onDelete: "cascade" }),
    /** A BCP 47 tag in its canonical case (`pt-BR`). */
    lang: text("lang").notNull(),
    label: text("label").notNull(),
    cues: integer("cues").notNull(),
    /** The stored WebVTT's size. */
    bytes: integer("bytes").notNull(),
    /** Epoch milliseconds. */
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.videoId, t.lang] })],
);

export type CaptionRow = typeof captions.$inferSelect;

/**
 * Every cue of every track, as plain text, for search: `caption_cues_fts`
 * (FTS5, external content on this table) indexes those of public, ready
 * videos, and `caption_transcripts_fts` (drizzle 0011) holds each such
 * video's cues as one row. A track's cues are only ever inserted and deleted,
 * never updated.
 */
export const captionCues = sqliteTable(
  "caption_cues",
  {
    /** The rowid, which the full-text index names. */
    id: integer("id").primaryKey(),
    videoId: text("video_id")
      .notNull()
      .references(() => videos.id, { onDelete: "cascade" }),
    lang: text("lang").notNull(),
    /** Milliseconds into the video. */
    startMs: integer("start_ms").notNull(),
    endMs: integer("end_ms").notNull(),
    text: text("text").notNull(),
  },
  (t) => [index("caption_cues_track").on(t.videoId, t.lang, t.startMs)],
);

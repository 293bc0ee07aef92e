/**
 * D1 schema: one row per video. The per-video Durable Object owns the upload
 * state and writes `status` here on every transition, so listings and search
 * never have to ask thousands of Durable Objects.
 */
import { sql } from "drizzle-orm";
import { index, integer, real, sqliteTable, text } from "drizzle-orm/sqlite-core";
import type { AudioTrack, Rendition, SourceWarning } from "../contracts/job.ts";
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

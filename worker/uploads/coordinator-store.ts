/**
 * The upload coordinator's SQLite storage. Every method is synchronous (the
 * Durable Object SQL API is), which is what lets the coordinator check and
 * act without another request slipping in between.
 */
import type { VideoStatus } from "../contracts/vocabulary.ts";

export type UploadMeta = {
  videoId: string;
  r2Key: string;
  r2UploadId: string;
  tokenHash: string;
  filename: string;
  contentType: string;
  size: number;
  chunkSize: number;
  totalChunks: number;
  status: VideoStatus;
  jobSent: boolean;
  createdAt: number;
  expiresAt: number;
  ttlMs: number;
};

export type ChunkRecord = { n: number; size: number; sha256: string; etag: string; recordedAt: number };
export type Lease = { leaseId: string; startedAt: number };

const SCHEMA = `
CREATE TABLE IF NOT EXISTS upload (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  video_id TEXT NOT NULL,
  r2_key TEXT NOT NULL,
  r2_upload_id TEXT NOT NULL,
  token_hash TEXT NOT NULL,
  filename TEXT NOT NULL,
  content_type TEXT NOT NULL,
  size INTEGER NOT NULL,
  chunk_size INTEGER NOT NULL,
  total_chunks INTEGER NOT NULL,
  status TEXT NOT NULL,
  job_sent INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  ttl_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS chunks (
  n INTEGER PRIMARY KEY,
  size INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  etag TEXT NOT NULL,
  recorded_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS leases (
  n INTEGER PRIMARY KEY,
  lease_id TEXT NOT NULL,
  started_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS contended (n INTEGER PRIMARY KEY);
CREATE TABLE IF NOT EXISTS tombstone (id INTEGER PRIMARY KEY CHECK (id = 1), video_id TEXT NOT NULL, deleted_at INTEGER NOT NULL);
`;

type MetaRow = {
  video_id: string;
  r2_key: string;
  r2_upload_id: string;
  token_hash: string;
  filename: string;
  content_type: string;
  size: number;
  chunk_size: number;
  total_chunks: number;
  status: VideoStatus;
  job_sent: number;
  created_at: number;
  expires_at: number;
  ttl_ms: number;
};

export class CoordinatorStore {
  constructor(private readonly sql: SqlStorage) {
    // Idempotent DDL: cheap enough to run on every start of the object.
    sql.exec(SCHEMA);
  }

  meta(): UploadMeta | undefined {
    const row = this.sql.exec<MetaRow>("SELECT * FROM upload WHERE id = 1").toArray()[0];
    if (!row) return undefined;
    return {
      videoId: row.video_id,
      r2Key: row.r2_key,
      r2UploadId: row.r2_upload_id,
      tokenHash: row.token_hash,
      filename: row.filename,
      contentType: row.content_type,
      size: row.size,
      chunkSize: row.chunk_size,
      totalChunks: row.total_chunks,
      status: row.status,
      jobSent: row.job_sent === 1,
      createdAt: row.created_at,
      expiresAt: row.expires_at,
      ttlMs: row.ttl_ms,
    };
  }

  insertMeta(m: UploadMeta): void {
    this.sql.exec(
      `INSERT INTO upload (id, video_id, r2_key, r2_upload_id, token_hash, filename, content_type, size,
         chunk_size, total_chunks, status, job_sent, created_at, updated_at, expires_at, ttl_ms)
       VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      m.videoId,
      m.r2Key,
      m.r2UploadId,
      m.tokenHash,
      m.filename,
      m.contentType,
      m.size,
      m.chunkSize,
      m.totalChunks,
      m.status,
      m.jobSent ? 1 : 0,
      m.createdAt,
      m.createdAt,
      m.expiresAt,
      m.ttlMs,
    );
  }

  setStatus(status: VideoStatus, now: number): void {
    this.sql.exec("UPDATE upload SET status = ?, updated_at = ? WHERE id = 1", status, now);
  }

  setJobSent(): void {
    this.sql.exec("UPDATE upload SET job_sent = 1 WHERE id = 1");
  }

  setExpiresAt(at: number): void {
    this.sql.exec("UPDATE upload SET expires_at = ?, updated_at = ? WHERE id = 1", at, Date.now());
  }

  chunk(n: number): ChunkRecord | undefined {
    return this.sql
      .exec<{ n: number; size: number; sha256: string; etag: string; recorded_at: number }>(
        "SELECT * FROM chunks WHERE n = ?",
        n,
      )
      .toArray()
      .map((r) => ({ n: r.n, size: r.size, sha256: r.sha256, etag: r.etag, recordedAt: r.recorded_at }))[0];
  }

  recordChunk(c: ChunkRecord): void {
    this.sql.exec(
      "INSERT INTO chunks (n, size, sha256, etag, recorded_at) VALUES (?, ?, ?, ?, ?)",
      c.n,
      c.size,
      c.sha256,
      c.etag,
      c.recordedAt,
    );
    this.sql.exec("DELETE FROM leases WHERE n = ?", c.n);
  }

  receivedChunks(): number[] {
    return this.sql
      .exec<{ n: number }>("SELECT n FROM chunks ORDER BY n")
      .toArray()
      .map((r) => r.n);
  }

  receivedCount(): number {
    return this.sql.exec<{ c: number }>("SELECT count(*) AS c FROM chunks").one().c;
  }

  missingChunks(total: number): number[] {
    const have = new Set(this.receivedChunks());
    const missing: number[] = [];
    for (let n = 1; n <= total; n++) if (!have.has(n)) missing.push(n);
    return missing;
  }

  /** The parts list R2 needs to complete the multipart upload, in order. */
  parts(): R2UploadedPart[] {
    return this.sql
      .exec<{ n: number; etag: string }>("SELECT n, etag FROM chunks ORDER BY n")
      .toArray()
      .map((r) => ({ partNumber: r.n, etag: r.etag }));
  }

  lease(n: number): Lease | undefined {
    return this.sql
      .exec<{ lease_id: string; started_at: number }>("SELECT lease_id, started_at FROM leases WHERE n = ?", n)
      .toArray()
      .map((r) => ({ leaseId: r.lease_id, startedAt: r.started_at }))[0];
  }

  putLease(n: number, leaseId: string, now: number): void {
    this.sql.exec("INSERT OR REPLACE INTO leases (n, lease_id, started_at) VALUES (?, ?, ?)", n, leaseId, now);
  }

  deleteLease(n: number): void {
    this.sql.exec("DELETE FROM leases WHERE n = ?", n);
  }

  clearLeases(): void {
    this.sql.exec("DELETE FROM leases");
  }

  markContended(n: number): void {
    this.sql.exec("INSERT OR IGNORE INTO contended (n) VALUES (?)", n);
  }

  /**
   * Forgets the upload (every later request sees "no such upload") but for a
   * tombstone naming the video, so the alarm can sweep R2 once more.
   */
  bury(videoId: string, now: number): void {
    for (const table of ["upload", "chunks", "leases", "contended"]) this.sql.exec(`DELETE FROM ${table}`);
    this.sql.exec("INSERT OR REPLACE INTO tombstone (id, video_id, deleted_at) VALUES (1, ?, ?)", videoId, now);
  }

  tombstone(): { videoId: string; deletedAt: number } | undefined {
    return this.sql
      .exec<{ video_id: string; deleted_at: number }>("SELECT video_id, deleted_at FROM tombstone WHERE id = 1")
      .toArray()
      .map((r) => ({ videoId: r.video_id, deletedAt: r.deleted_at }))[0];
  }

  /** Drops the records of contended chunks (their parts may have been overwritten) and returns them. */
  forgetContended(): number[] {
    const ns = this.sql
      .exec<{ n: number }>("SELECT n FROM contended ORDER BY n")
      .toArray()
      .map((r) => r.n);
    this.sql.exec("DELETE FROM chunks WHERE n IN (SELECT n FROM contended)");
    this.sql.exec("DELETE FROM contended");
    return ns;
  }
}

/**
 * The video's Durable Object storage schema, as numbered migrations. An
 * object records the last version it applied and, when it starts with
 * tables, applies the later ones in order, in one transaction, before it
 * serves any request (an object with none gets its schema on its first
 * write, store.ts):
 * `CREATE TABLE IF NOT EXISTS` alone never changes a table an object already
 * has.
 *
 * A migration that has shipped is never edited: add the next one, and make
 * tables.ts describe what it leaves.
 */

/** Version 1: the schema as the code before versioning created it, on every start, with no version recorded. */
const V1_UNVERSIONED_SCHEMA = `
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
CREATE TABLE IF NOT EXISTS jobs (
  job_id TEXT PRIMARY KEY,
  attempt INTEGER NOT NULL,
  state TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  heartbeat_at INTEGER NOT NULL,
  progress REAL NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS processing (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  current_job TEXT,
  playback_job TEXT,
  ladder_complete INTEGER NOT NULL DEFAULT 0,
  error TEXT
);
INSERT OR IGNORE INTO processing (id) VALUES (1);
`;

/**
 * Version 2: the object is the video's, so its row is the video: `upload`
 * becomes `video` and takes in the `processing` singleton. Jobs gain
 * `retry_at`, the time the alarm offers a waiting hand-off again, which the
 * alarm used to keep only as its own schedule; hand-offs already waiting are
 * due at once.
 */
const V2_VIDEO_ROW = `
CREATE TABLE video (
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
  ttl_ms INTEGER NOT NULL,
  current_job TEXT,
  playback_job TEXT,
  ladder_complete INTEGER NOT NULL DEFAULT 0,
  error TEXT
);
INSERT INTO video
  SELECT u.id, u.video_id, u.r2_key, u.r2_upload_id, u.token_hash, u.filename, u.content_type, u.size,
    u.chunk_size, u.total_chunks, u.status, u.job_sent, u.created_at, u.updated_at, u.expires_at, u.ttl_ms,
    p.current_job, p.playback_job, coalesce(p.ladder_complete, 0), p.error
  FROM upload u LEFT JOIN processing p ON p.id = 1;
DROP TABLE upload;
DROP TABLE processing;
ALTER TABLE jobs ADD COLUMN retry_at INTEGER;
UPDATE jobs SET retry_at = created_at WHERE state IN ('deferred', 'refused');
`;

/**
 * Version 3: when the first-playable copy (the source copied into HLS, which
 * the final ladder replaces) is deleted; null when none waits.
 */
const V3_FIRST_COPY = `
ALTER TABLE video ADD COLUMN first_copy_retire_at INTEGER;
`;

/**
 * Version 4: whether the rendition served is still being written (published
 * at its first segments): a job that fails then leaves nothing that plays to the end.
 */
const V4_PLAYBACK_GROWING = `
ALTER TABLE video ADD COLUMN playback_growing INTEGER NOT NULL DEFAULT 0;
`;

/**
 * Version 5: the ladder in spans. A job's first task leaves the ladder to
 * encode (`jobs.ladder`, with the metadata the final master is written
 * from); each span is a task of its own, retried on its own.
 */
const V5_SPANS = `
ALTER TABLE jobs ADD COLUMN ladder TEXT;
CREATE TABLE spans (
  job_id TEXT NOT NULL,
  n INTEGER NOT NULL,
  start_sec REAL NOT NULL,
  frames INTEGER,
  start_number INTEGER NOT NULL,
  duration_sec REAL NOT NULL,
  attempt INTEGER NOT NULL,
  state TEXT NOT NULL,
  heartbeat_at INTEGER NOT NULL,
  progress REAL NOT NULL DEFAULT 0,
  retry_at INTEGER,
  failures INTEGER NOT NULL DEFAULT 0,
  error TEXT,
  result TEXT,
  PRIMARY KEY (job_id, n)
);
`;

/**
 * Version 6: uploads that meet people where they are. `origin` says how the
 * video arrived (`api`, `tus`, `import`): a tus upload's URL is its
 * capability, an import's bytes come from `import_url`. A direct creator
 * upload is reserved (`direct_upload`) before its video exists.
 */
const V6_ORIGINS = `
ALTER TABLE video ADD COLUMN origin TEXT NOT NULL DEFAULT 'api';
ALTER TABLE video ADD COLUMN import_url TEXT;
CREATE TABLE direct_upload (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  token_hash TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  max_size_bytes INTEGER NOT NULL,
  title TEXT,
  description TEXT,
  tags TEXT,
  visibility TEXT,
  allowed_origin TEXT,
  created_at INTEGER NOT NULL
);
`;

/**
 * Version 7: the video's events (issue 13). Each is written to `outbox` in
 * the same synchronous step as the change it reports, and leaves it once it
 * is in D1 and on the events queue; `emitted` holds the keys of events that
 * happen once (the upload completed, rendition 720p ready), and
 * `event_state` the last sequence number given and when a failed flush is
 * tried again. None of them is deleted with the video: its `video.deleted` must still go out.
 */
const V7_EVENTS = `
CREATE TABLE outbox (
  sequence INTEGER PRIMARY KEY,
  id TEXT NOT NULL,
  body TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE emitted (key TEXT PRIMARY KEY);
CREATE TABLE event_state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  last_sequence INTEGER NOT NULL,
  retry_at INTEGER
);
`;

/**
 * Version 8: the downloads' package task (issue 14), one row: the playback
 * job whose complete ladder it copies into `download.mp4` and `audio.m4a`,
 * which rung and audio track, and its try, state, heartbeat, next send and
 * failures, as a span has them. A later playback job's task replaces it.
 */
const V8_PACKAGE = `
CREATE TABLE package (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  job_id TEXT NOT NULL,
  rung TEXT NOT NULL,
  audio TEXT,
  attempt INTEGER NOT NULL,
  state TEXT NOT NULL,
  heartbeat_at INTEGER NOT NULL,
  retry_at INTEGER,
  failures INTEGER NOT NULL DEFAULT 0,
  error TEXT
);
`;

/** Migration `i` brings the storage to version `i + 1`. */
export const MIGRATIONS: readonly string[] = [
  V1_UNVERSIONED_SCHEMA,
  V2_VIDEO_ROW,
  V3_FIRST_COPY,
  V4_PLAYBACK_GROWING,
  V5_SPANS,
  V6_ORIGINS,
  V7_EVENTS,
  V8_PACKAGE,
];

/**
 * Whether the object has stored anything: tables of any version. The
 * runtime's own tables (`_cf_…`) do not count.
 */
export function hasTables(storage: DurableObjectStorage): boolean {
  return (
    storage.sql
      .exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\' LIMIT 1")
      .toArray().length > 0
  );
}

/**
 * Applies every migration the storage has not had, and records each. An
 * object from before versioning has version 1's tables but no version row:
 * version 1 only creates what is missing, so such an object passes through
 * it unchanged and is then upgraded like any other.
 */
export function migrate(storage: DurableObjectStorage): void {
  const sql = storage.sql;
  storage.transactionSync(() => {
    sql.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)");
    const applied = sql.exec<{ version: number | null }>("SELECT max(version) AS version FROM schema_migrations").one();
    for (let version = (applied.version ?? 0) + 1; version <= MIGRATIONS.length; version++) {
      sql.exec(MIGRATIONS[version - 1]!);
      sql.exec("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)", version, Date.now());
    }
  });
}

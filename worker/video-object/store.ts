/**
 * The video's Durable Object storage: drizzle over the object's SQLite
 * (tables.ts), brought to the latest schema (migrations.ts) when opened.
 * Every method is synchronous, as the Durable Object SQL API is, which is
 * what lets the object check and act with no other request slipping in
 * between.
 *
 * Storage exists only for a video that was created. Anyone can name any
 * well-formed id, so an object that holds nothing yet stays empty when it
 * is opened and read: it has no tables, and every read answers "nothing
 * here". Its first write (the upload's `create`) creates its schema.
 */
import { and, asc, count, desc, eq, inArray, sql } from "drizzle-orm";
import { type DrizzleSqliteDODatabase, drizzle } from "drizzle-orm/durable-sqlite";
import { hasTables, migrate } from "./migrations.ts";
import {
  chunks,
  contended,
  directUpload,
  eventState,
  jobs,
  leases,
  outbox,
  packageTask,
  spans,
  tombstone,
  video,
} from "./tables.ts";

export type Video = typeof video.$inferSelect;
export type NewVideo = Omit<typeof video.$inferInsert, "id">;
export type ChunkRecord = typeof chunks.$inferSelect;
export type Lease = Omit<typeof leases.$inferSelect, "n">;
export type Job = typeof jobs.$inferSelect;
export type JobState = Job["state"];
export type Tombstone = Omit<typeof tombstone.$inferSelect, "id">;
export type Span = typeof spans.$inferSelect;
export type NewSpan = typeof spans.$inferInsert;
export type DirectUpload = Omit<typeof directUpload.$inferSelect, "id">;
export type OutboxEvent = typeof outbox.$inferSelect;
export type PackageTaskRow = Omit<typeof packageTask.$inferSelect, "id">;

export class VideoStore {
  private readonly storage: DurableObjectStorage;
  private readonly orm: DrizzleSqliteDODatabase;
  /** Whether the schema exists: a never-created object has none, and reads find nothing. */
  private exists: boolean;

  constructor(storage: DurableObjectStorage) {
    this.storage = storage;
    this.exists = hasTables(storage);
    // An object that has stored anything is brought to the latest schema before it serves a request.
    if (this.exists) migrate(storage);
    this.orm = drizzle(storage);
  }

  /** For reads; undefined while the object has no schema, so a read of a never-created video writes nothing. */
  private get reader(): DrizzleSqliteDODatabase | undefined {
    return this.exists ? this.orm : undefined;
  }

  /** For writes: creates the schema on the first one. */
  private get db(): DrizzleSqliteDODatabase {
    if (!this.exists) {
      migrate(this.storage);
      this.exists = true;
    }
    return this.orm;
  }

  // --- The video row.

  video(): Video | undefined {
    return this.reader?.select().from(video).get();
  }

  insertVideo(row: NewVideo): void {
    this.db
      .insert(video)
      .values({ ...row, id: 1 })
      .run();
  }

  updateVideo(fields: Partial<NewVideo>): void {
    this.db.update(video).set(fields).run();
  }

  // --- A direct creator upload's reservation.

  directUpload(): DirectUpload | undefined {
    return this.reader?.select().from(directUpload).get();
  }

  reserveDirectUpload(row: DirectUpload): void {
    this.db
      .insert(directUpload)
      .values({ ...row, id: 1 })
      .run();
  }

  // --- Chunks and their leases.

  chunk(n: number): ChunkRecord | undefined {
    return this.reader?.select().from(chunks).where(eq(chunks.n, n)).get();
  }

  /** Records a chunk and frees its lease. */
  recordChunk(chunk: ChunkRecord): void {
    this.db.insert(chunks).values(chunk).run();
    this.deleteLease(chunk.n);
  }

  receivedChunks(): number[] {
    return (
      this.reader
        ?.select({ n: chunks.n })
        .from(chunks)
        .orderBy(chunks.n)
        .all()
        .map((r) => r.n) ?? []
    );
  }

  receivedCount(): number {
    return this.reader?.select({ received: count() }).from(chunks).get()?.received ?? 0;
  }

  missingChunks(total: number): number[] {
    const have = new Set(this.receivedChunks());
    const missing: number[] = [];
    for (let n = 1; n <= total; n++) if (!have.has(n)) missing.push(n);
    return missing;
  }

  /** The parts list R2 needs to complete the multipart upload, in order. */
  parts(): R2UploadedPart[] {
    return this.reader?.select({ partNumber: chunks.n, etag: chunks.etag }).from(chunks).orderBy(chunks.n).all() ?? [];
  }

  lease(n: number): Lease | undefined {
    return this.reader
      ?.select({ leaseId: leases.leaseId, startedAt: leases.startedAt })
      .from(leases)
      .where(eq(leases.n, n))
      .get();
  }

  putLease(n: number, leaseId: string, now: number): void {
    this.db
      .insert(leases)
      .values({ n, leaseId, startedAt: now })
      .onConflictDoUpdate({ target: leases.n, set: { leaseId, startedAt: now } })
      .run();
  }

  deleteLease(n: number): void {
    this.db.delete(leases).where(eq(leases.n, n)).run();
  }

  clearLeases(): void {
    this.db.delete(leases).run();
  }

  markContended(n: number): void {
    this.db.insert(contended).values({ n }).onConflictDoNothing().run();
  }

  /** Drops the records of contended chunks (their parts may have been overwritten) and returns them. */
  forgetContended(): number[] {
    const ns = this.db
      .select({ n: contended.n })
      .from(contended)
      .orderBy(contended.n)
      .all()
      .map((r) => r.n);
    if (ns.length > 0) this.db.delete(chunks).where(inArray(chunks.n, ns)).run();
    this.db.delete(contended).run();
    return ns;
  }

  // --- Transcode jobs.

  job(jobId: string): Job | undefined {
    return this.reader?.select().from(jobs).where(eq(jobs.jobId, jobId)).get();
  }

  /** The current job, if it is still submitted or running. */
  activeJob(): Job | undefined {
    const current = this.video()?.currentJob;
    const job = current ? this.job(current) : undefined;
    return job && (job.state === "submitted" || job.state === "running") ? job : undefined;
  }

  /** The most recently started job, whatever its state. */
  lastJob(): Job | undefined {
    return this.reader?.select().from(jobs).orderBy(desc(jobs.createdAt), desc(sql`rowid`)).limit(1).get();
  }

  countInState(state: JobState): number {
    return this.reader?.select({ jobs: count() }).from(jobs).where(eq(jobs.state, state)).get()?.jobs ?? 0;
  }

  /** Adds a submitted job and makes it the current one. */
  addJob(jobId: string, attempt: number, now: number): void {
    this.db.insert(jobs).values({ jobId, attempt, state: "submitted", createdAt: now, heartbeatAt: now }).run();
    this.updateVideo({ currentJob: jobId });
  }

  updateJob(jobId: string, fields: Partial<Omit<Job, "jobId">>): void {
    this.db.update(jobs).set(fields).where(eq(jobs.jobId, jobId)).run();
  }

  /** A sign of life from the job, with its progress if it sent one (progress never goes back). */
  heartbeat(jobId: string, now: number, progress?: number): void {
    const fields =
      progress === undefined
        ? { heartbeatAt: now }
        : { heartbeatAt: now, progress: sql`max(${jobs.progress}, ${progress})` };
    this.db.update(jobs).set(fields).where(eq(jobs.jobId, jobId)).run();
  }

  /** Nobody waits for a hand-off to be offered again any more. */
  clearRetries(): void {
    this.db.update(jobs).set({ retryAt: null }).run();
  }

  // --- The ladder's spans.

  spans(jobId: string): Span[] {
    return this.reader?.select().from(spans).where(eq(spans.jobId, jobId)).orderBy(asc(spans.n)).all() ?? [];
  }

  span(jobId: string, n: number): Span | undefined {
    return this.reader
      ?.select()
      .from(spans)
      .where(and(eq(spans.jobId, jobId), eq(spans.n, n)))
      .get();
  }

  addSpans(rows: NewSpan[]): void {
    // SQLite binds at most 100 parameters per statement here: a few rows at a time.
    for (let i = 0; i < rows.length; i += 5)
      this.db
        .insert(spans)
        .values(rows.slice(i, i + 5))
        .run();
  }

  updateSpan(jobId: string, n: number, fields: Partial<Omit<Span, "jobId" | "n">>): void {
    this.db
      .update(spans)
      .set(fields)
      .where(and(eq(spans.jobId, jobId), eq(spans.n, n)))
      .run();
  }

  // --- The downloads' package task.

  packageTask(): PackageTaskRow | undefined {
    const row = this.reader?.select().from(packageTask).get();
    if (!row) return undefined;
    const { id: _, ...task } = row;
    return task;
  }

  /** Makes `task` the package task, replacing any other (a former playback job's, or a failed one's). */
  putPackageTask(task: PackageTaskRow): void {
    this.db
      .insert(packageTask)
      .values({ ...task, id: 1 })
      .onConflictDoUpdate({ target: packageTask.id, set: task })
      .run();
  }

  updatePackageTask(fields: Partial<Omit<PackageTaskRow, "jobId">>): void {
    this.db.update(packageTask).set(fields).run();
  }

  // --- Events.

  /**
   * Marks a once-only event as emitted: false when it already was. The
   * check and the mark are one statement, so two callers never both win.
   */
  markEmitted(key: string): boolean {
    this.db; // The schema exists from here on.
    return this.storage.sql.exec("INSERT OR IGNORE INTO emitted (key) VALUES (?)", key).rowsWritten > 0;
  }

  /** Puts an event in the outbox under the next sequence number, which it returns. */
  addToOutbox(make: (sequence: number) => { id: string; body: string }, now: number): number {
    const sequence = (this.db.select().from(eventState).get()?.lastSequence ?? 0) + 1;
    this.db
      .insert(eventState)
      .values({ id: 1, lastSequence: sequence })
      .onConflictDoUpdate({ target: eventState.id, set: { lastSequence: sequence } })
      .run();
    this.db
      .insert(outbox)
      .values({ sequence, ...make(sequence), createdAt: now })
      .run();
    return sequence;
  }

  /** The oldest events waiting to leave, in order. */
  outbox(limit: number): OutboxEvent[] {
    return this.reader?.select().from(outbox).orderBy(asc(outbox.sequence)).limit(limit).all() ?? [];
  }

  /** The events up to `sequence` have left. */
  dropFromOutbox(sequence: number): void {
    this.db.delete(outbox).where(sql`${outbox.sequence} <= ${sequence}`).run();
    this.db.update(eventState).set({ retryAt: null }).run();
  }

  /** When the outbox needs a flush: at once for a new event, or when a failed flush is tried again. */
  outboxDueAt(): number | undefined {
    const oldest = this.reader
      ?.select({ createdAt: outbox.createdAt })
      .from(outbox)
      .orderBy(asc(outbox.sequence))
      .limit(1)
      .get();
    if (!oldest) return undefined;
    return this.reader?.select().from(eventState).get()?.retryAt ?? oldest.createdAt;
  }

  retryOutboxAt(at: number): void {
    this.db.update(eventState).set({ retryAt: at }).run();
  }

  // --- Deletion.

  /**
   * Forgets the video (every later request sees "no such video") but for a
   * tombstone naming it, so the alarm can sweep R2 once more.
   */
  bury(videoId: string, now: number): void {
    for (const table of [video, chunks, leases, contended, jobs, spans, directUpload, packageTask])
      this.db.delete(table).run();
    this.db
      .insert(tombstone)
      .values({ id: 1, videoId, deletedAt: now })
      .onConflictDoUpdate({ target: tombstone.id, set: { videoId, deletedAt: now } })
      .run();
  }

  tombstone(): Tombstone | undefined {
    return this.reader?.select({ videoId: tombstone.videoId, deletedAt: tombstone.deletedAt }).from(tombstone).get();
  }
}

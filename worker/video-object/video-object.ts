/**
 * `VideoObject`: one Durable Object per video, the single owner of its
 * state. Its parts share its storage: the upload (upload.ts), processing
 * (processing.ts) and deletion (deletion.ts); this class is their RPC
 * surface and the one place that sets the alarm (alarm.ts decides when).
 * Its status machine: `uploading → processing → ready | failed`, or
 * `aborted` / `expired`.
 *
 * Requests to a Durable Object interleave whenever one awaits I/O, so every
 * check-then-act section either runs without an await between check and act
 * (SQLite storage is synchronous) or is guarded explicitly (the upload's
 * merge).
 */
import { DurableObject } from "cloudflare:workers";
import { readConfig } from "../config.ts";
import type { JobEvent } from "../contracts/job.ts";
import { type AlarmState, type AlarmTask, nextWake, type Wake } from "./alarm.ts";
import { Deletion } from "./deletion.ts";
import { Packaging } from "./downloads.ts";
import { Events } from "./events.ts";
import { type HandOffResult, type JobStart, Processing } from "./processing.ts";
import type { SpanTry } from "./spans.ts";
import type { PackageRef, SpanRef } from "./transcode-queue.ts";
import { VideoStore } from "./store.ts";
import {
  type NewDirectUpload,
  type NewImport,
  type NewUpload,
  type StoredChunk,
  Upload,
  type UploadAccess,
} from "./upload.ts";

export class VideoObject extends DurableObject<Env> {
  private store!: VideoStore;
  private upload!: Upload;
  private processing!: Processing;
  private deletion!: Deletion;
  private events!: Events;
  private packaging!: Packaging;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.open();
  }

  /** Opens the storage, migrating it to the latest schema, and the parts on it; again after the final sweep wipes it. */
  private open(): void {
    this.store = new VideoStore(this.ctx.storage);
    this.events = new Events(this.store, this.env);
    this.packaging = new Packaging(this.store, this.env, this.events);
    this.processing = new Processing(this.store, this.env, this.events, () => this.packaging.consider());
    this.upload = new Upload(this.store, this.env, this.events, () => this.processing.begin());
    this.deletion = new Deletion(this.store, this.env, this.events);
  }

  // --- The upload: called by the upload routes, and by the video routes for the owner.

  create(input: NewUpload) {
    return this.armed(this.upload.create(input));
  }

  reserveDirect(input: NewDirectUpload) {
    return this.armed(this.upload.reserveDirect(input));
  }

  describe(access: UploadAccess) {
    return this.upload.describe(access);
  }

  beginChunk(access: UploadAccess, n: number) {
    return this.armed(this.upload.beginChunk(access, n));
  }

  recordChunk(n: number, stored: StoredChunk) {
    return this.armed(this.upload.recordChunk(n, stored));
  }

  renewLeases(leases: { n: number; leaseId: string }[]): void {
    this.upload.renewLeases(leases);
  }

  releaseChunk(n: number, leaseId: string): void {
    this.upload.releaseChunk(n, leaseId);
  }

  complete(access: UploadAccess) {
    return this.armed(this.upload.complete(access));
  }

  abort(access: UploadAccess) {
    return this.armed(this.upload.abort(access));
  }

  // --- An import from a URL: called by the import route and the import queue's consumer.

  createImport(input: NewImport) {
    return this.armed(this.upload.createImport(input));
  }

  importState() {
    return this.upload.importState();
  }

  sizeImport(file: { size: number; contentType: string; filename?: string }) {
    return this.armed(this.upload.sizeImport(file));
  }

  failImport(reason: string): Promise<void> {
    return this.armed(this.upload.failImport(reason));
  }

  authorizeOwner(token: string) {
    return this.upload.authorizeOwner(token);
  }

  source(token: string) {
    return this.upload.source(token);
  }

  // --- Deletion and edits: called by the video routes.

  purge() {
    return this.armed(this.deletion.purge());
  }

  /** The owner edited the video's D1 row (`PATCH /api/videos/:id`): `video.updated`, with the fields as they now are. */
  edited(): Promise<void> {
    const video = this.store.video();
    if (!video) return Promise.resolve();
    return this.armed(this.events.emit({ videoId: video.videoId, type: "video.updated" }));
  }

  /**
   * The owner turned downloads on or off, after writing it to D1. On: they
   * are made if the ladder is complete and they are not made or being made
   * (a failed making starts again). Off: the routes stop serving them at
   * once, from D1; what is made is kept, for turning them on again.
   */
  downloadsAllowed(allowed: boolean): Promise<void> {
    return this.armed(allowed ? this.packaging.consider() : undefined);
  }

  // --- Processing: called by the queue consumers and the transcoder's signed callbacks.

  startJob(attempt: number): Promise<JobStart> {
    return this.armed(this.processing.startJob(attempt));
  }

  handedOff(jobId: string, result: HandOffResult): Promise<void> {
    return this.armed(this.processing.handedOff(jobId, result));
  }

  startSpan(ref: SpanRef) {
    return this.armed(this.processing.startSpan(ref));
  }

  spanHandedOff(ref: SpanRef, result: HandOffResult): Promise<void> {
    return this.armed(this.processing.spanHandedOff(ref, result));
  }

  jobSource(jobId: string, span?: SpanTry) {
    return this.processing.jobSource(jobId, span);
  }

  jobIsCurrent(jobId: string, span?: SpanTry): boolean {
    return this.processing.jobIsCurrent(jobId, span);
  }

  jobEvent(event: JobEvent, span?: SpanTry) {
    return this.armed(this.processing.event(event, span));
  }

  startPackage(ref: PackageRef) {
    return this.armed(this.packaging.start(ref));
  }

  packageHandedOff(ref: PackageRef, result: HandOffResult): Promise<void> {
    return this.armed(this.packaging.handedOff(ref, result));
  }

  packageIsCurrent(jobId: string, attempt: number): boolean {
    return this.packaging.isCurrent(jobId, attempt);
  }

  packageEvent(event: JobEvent, attempt: number) {
    return this.armed(this.packaging.event(event, attempt));
  }

  /** The dead-letter queue's verdict: the job could not be handed off at all. */
  failProcessing(reason: string): Promise<void> {
    return this.armed(this.processing.fail(reason));
  }

  /** Runs the task that is due, if any (an alarm may fire early: a deadline moved later), then re-arms. */
  override async alarm(): Promise<void> {
    const now = Date.now();
    const wake = this.nextWake(now);
    if (wake && wake.at <= now) await this.run(wake.task);
    await this.events.flush();
    await this.arm();
  }

  private async run(task: AlarmTask): Promise<void> {
    // Storage is wiped only once every event has left: a deleted video's `video.deleted` too.
    if (
      (task === "sweep" || task === "forget" || task === "lapse" || task === "outbox") &&
      !(await this.events.flush())
    )
      return;
    switch (task) {
      case "outbox":
        return;
      case "sweep":
        await this.deletion.sweep();
        await this.ctx.storage.deleteAll();
        this.open();
        return;
      case "forget":
        await this.deletion.forget();
        // Its `video.deleted` leaves before the storage that holds it is wiped; else the next alarm tries again.
        if (!(await this.events.flush())) return;
        await this.ctx.storage.deleteAll();
        this.open();
        return;
      case "lapse":
        if (!this.upload.lapsed(Date.now())) return;
        await this.ctx.storage.deleteAll();
        this.open();
        return;
      case "expire":
        return this.upload.expire();
      case "watchdog":
        return this.processing.supersedeSilentJob();
      case "spans":
        return this.processing.tendSpans();
      case "offer-again":
        return this.processing.offerAgain();
      case "retire-first-copy":
        return this.processing.retireFirstCopy();
      case "package":
        return this.packaging.tend();
    }
  }

  /** Awaits a change to the stored state, sends the events it made, then re-arms for it (and for any that could not go). */
  private async armed<T>(change: T | Promise<T>): Promise<T> {
    try {
      return await change;
    } finally {
      await this.events.flush();
      await this.arm();
    }
  }

  /**
   * The one place the alarm is set or deleted: to the next wake-up the
   * stored state asks for. An alarm already due sooner, and not yet fired,
   * is kept: it only wakes the object early to re-arm, and keeping it spares
   * an alarm write whenever a deadline moved later (every chunk, every
   * heartbeat).
   */
  private async arm(): Promise<void> {
    const now = Date.now();
    const wake = this.nextWake(now);
    const set = await this.ctx.storage.getAlarm();
    if (!wake) {
      if (set !== null) await this.ctx.storage.deleteAlarm();
      return;
    }
    if (set !== null && set > now && set <= wake.at) return;
    await this.ctx.storage.setAlarm(wake.at);
  }

  private nextWake(now: number): Wake | undefined {
    const config = readConfig(this.env);
    return nextWake(this.alarmState(), now, {
      heartbeatTimeoutMs: config.jobHeartbeatTimeoutMs,
      abandonedGraceMs: config.abandonedUploadGraceMs,
      failedRetentionMs: config.failedSourceRetentionMs,
    });
  }

  private alarmState(): AlarmState {
    return {
      tombstone: this.store.tombstone(),
      video: this.store.video(),
      reservation: this.store.directUpload(),
      activeJob: this.store.activeJob(),
      spansDueAt: this.processing.spansDueAt(),
      lastJob: this.store.lastJob(),
      packageDueAt: this.packaging.dueAt(),
      merging: this.upload.isMerging,
      outboxDueAt: this.events.dueAt(),
    };
  }
}

/**
 * `VideoUpload`: one Durable Object per video, the single owner of its upload.
 *
 * It holds the R2 multipart upload id, which chunks arrived with which SHA-256
 * and part etag, and the status machine
 * `uploading → processing → ready | failed`, or `aborted` / `expired`.
 * Chunk bytes never pass through here: the Worker streams them into R2 and
 * asks this object for a lease before and to record the part after.
 *
 * Requests to a Durable Object interleave whenever one awaits I/O, so every
 * check-then-act section here either runs without an await between check and
 * act (SQLite storage is synchronous) or is guarded explicitly (`merging`).
 */
import { DurableObject } from "cloudflare:workers";
import { readConfig } from "../config.ts";
import { deleteVideoRow, insertVideo, setVideoStatus } from "../db/videos.ts";
import { deletePrefix } from "../storage/prefix.ts";
import type { VideoStatus, Visibility } from "../contracts/vocabulary.ts";
import { newToken, safeEqual, sha256Hex } from "../crypto/tokens.ts";
import { refuse, type Outcome, type Refusal } from "../http/errors.ts";
import { sourceKey, videoPrefix } from "../storage/keys.ts";
import { expectedChunkBytes, type ChunkPlan } from "./chunk-plan.ts";
import { ProcessingLedger, type HandOffResult, type JobStart } from "../processing/ledger.ts";
import type { JobEvent } from "../contracts/job.ts";
import { CoordinatorStore, type UploadMeta } from "./coordinator-store.ts";
import type { TranscodeJob } from "../processing/queue.ts";

/** A deleted video's prefix is swept once more after this, for writes that were in flight. */
const SWEEP_AFTER_MS = 60_000;

/**
 * How long a chunk request holds its part number without renewing it. The
 * request renews every `CHUNK_LEASE_RENEW_MS` while bytes flow, so a slow
 * upload keeps its lease, and a request that died with its Worker (a crash,
 * a restart) frees the chunk within seconds.
 */
export const CHUNK_LEASE_MS = 15_000;
export const CHUNK_LEASE_RENEW_MS = 5_000;

export type NewUpload = {
  videoId: string;
  plan: ChunkPlan;
  filename: string;
  contentType: string;
  title: string;
  description: string;
  tags: string[];
  visibility: Visibility;
};

export type UploadSnapshot = {
  videoId: string;
  status: VideoStatus;
  size: number;
  chunkSize: number;
  totalChunks: number;
  received: number[];
  expiresAt: string;
};

export type ChunkGrant =
  | { mode: "upload"; leaseId: string; expectedBytes: number; r2Key: string; r2UploadId: string }
  | { mode: "verify"; expectedBytes: number; sha256: string; received: number; totalChunks: number };

export type ChunkArrival = { leaseId: string; bytes: number; claimedSha256: string; sha256: string; etag: string };

export class VideoUpload extends DurableObject<Env> {
  private store!: CoordinatorStore;
  private ledger!: ProcessingLedger;
  /** The merge in progress, shared by concurrent `complete` calls. Lost on eviction, as it should be. */
  private merging: Promise<Outcome<{ status: VideoStatus }>> | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.open();
  }

  /** Creates the tables (idempotent); again after `deleteAll` wipes them. */
  private open(): void {
    this.store = new CoordinatorStore(this.ctx.storage.sql);
    this.ledger = new ProcessingLedger(this.ctx.storage, this.env, this.store);
  }

  async create(input: NewUpload): Promise<Outcome<{ uploadToken: string; snapshot: UploadSnapshot }>> {
    if (this.store.meta()) return refuse("upload_exists", "This upload was already created.");
    const now = Date.now();
    const ttlMs = readConfig(this.env).uploadTtlMs;
    const uploadToken = newToken();
    const r2Key = sourceKey(input.videoId);
    const mpu = await this.env.VIDEOS.createMultipartUpload(r2Key, {
      httpMetadata: { contentType: input.contentType },
    });
    try {
      await insertVideo(this.env.DB, {
        id: input.videoId,
        title: input.title,
        description: input.description,
        tags: input.tags,
        visibility: input.visibility,
        filename: input.filename,
        size: input.plan.size,
        contentType: input.contentType,
        status: "uploading",
        createdAt: now,
        updatedAt: now,
      });
    } catch (err) {
      await mpu.abort();
      throw err;
    }
    this.store.insertMeta({
      videoId: input.videoId,
      r2Key,
      r2UploadId: mpu.uploadId,
      tokenHash: await sha256Hex(uploadToken),
      filename: input.filename,
      contentType: input.contentType,
      ...input.plan,
      status: "uploading",
      jobSent: false,
      createdAt: now,
      expiresAt: now + ttlMs,
      ttlMs,
    });
    await this.ctx.storage.setAlarm(now + ttlMs);
    return { ok: true, uploadToken, snapshot: this.snapshot() };
  }

  async describe(token: string): Promise<Outcome<{ snapshot: UploadSnapshot }>> {
    const denied = await this.authorize(token);
    if (denied) return denied;
    return { ok: true, snapshot: this.snapshot() };
  }

  /**
   * Asks to store chunk `n`. A chunk already recorded is only re-verified (its
   * part is never overwritten, so a bad resend cannot damage a good part); a
   * new one gets a lease so that two requests never write the same part at once.
   */
  async beginChunk(token: string, n: number, declaredBytes: number | null): Promise<Outcome<ChunkGrant>> {
    const denied = await this.authorize(token);
    if (denied) return denied;
    const meta = this.store.meta()!;
    if (meta.status !== "uploading") return closed(meta.status);
    if (n > meta.totalChunks) {
      return refuse("invalid_chunk_index", `Chunk index must be 1..${meta.totalChunks}.`, {
        totalChunks: meta.totalChunks,
      });
    }
    const expectedBytes = expectedChunkBytes(meta, n);
    if (declaredBytes !== null && declaredBytes !== expectedBytes) {
      return refuse("wrong_length", `Chunk ${n} must be exactly ${expectedBytes} bytes, not ${declaredBytes}.`, {
        expectedBytes,
      });
    }
    const recorded = this.store.chunk(n);
    if (recorded) {
      return {
        ok: true,
        mode: "verify",
        expectedBytes,
        sha256: recorded.sha256,
        received: this.store.receivedCount(),
        totalChunks: meta.totalChunks,
      };
    }

    const now = Date.now();
    const lease = this.store.lease(n);
    if (lease && now - lease.startedAt < CHUNK_LEASE_MS) {
      // The other request usually finishes in seconds; ask again soon rather than at lease expiry.
      const retryAfter = Math.min(3, Math.ceil((lease.startedAt + CHUNK_LEASE_MS - now) / 1000));
      return refuse("chunk_in_progress", `Chunk ${n} is being received by another request.`, { retryAfter });
    }
    // A stale lease's writer may still be alive and may still overwrite the
    // part; remember that, so a failed merge knows which chunk to ask for again.
    if (lease) this.store.markContended(n);
    const leaseId = crypto.randomUUID();
    this.store.putLease(n, leaseId, now);
    this.touch(now);
    return { ok: true, mode: "upload", leaseId, expectedBytes, r2Key: meta.r2Key, r2UploadId: meta.r2UploadId };
  }

  /** Records chunk `n` after its bytes are in R2, but only if they are the bytes the client hashed. */
  async finishChunk(n: number, arrival: ChunkArrival): Promise<Outcome<{ received: number; totalChunks: number }>> {
    const meta = this.store.meta();
    if (!meta) return refuse("not_found", "No such upload.");
    const lease = this.store.lease(n);
    const ours = lease?.leaseId === arrival.leaseId;
    if (ours && arrival.sha256 !== arrival.claimedSha256) this.store.deleteLease(n);
    if (meta.status !== "uploading") return closed(meta.status);
    if (!ours) return refuse("chunk_superseded", `Another request took over chunk ${n}; its result stands.`);
    if (arrival.sha256 !== arrival.claimedSha256) return digestMismatch(n, arrival);
    const expectedBytes = expectedChunkBytes(meta, n);
    if (arrival.bytes !== expectedBytes) {
      this.store.deleteLease(n);
      return refuse("wrong_length", `Chunk ${n} must be exactly ${expectedBytes} bytes, not ${arrival.bytes}.`, {
        expectedBytes,
      });
    }
    const now = Date.now();
    this.store.recordChunk({ n, size: arrival.bytes, sha256: arrival.sha256, etag: arrival.etag, recordedAt: now });
    this.touch(now);
    return { ok: true, received: this.store.receivedCount(), totalChunks: meta.totalChunks };
  }

  /** Keeps a live request's lease from expiring while its body is still streaming. */
  async renewLease(n: number, leaseId: string): Promise<void> {
    if (this.store.lease(n)?.leaseId === leaseId) this.store.putLease(n, leaseId, Date.now());
  }

  /** Gives a lease back when the body failed (dropped connection, wrong length). */
  async releaseChunk(n: number, leaseId: string): Promise<void> {
    if (this.store.lease(n)?.leaseId === leaseId) this.store.deleteLease(n);
  }

  /**
   * Merges the parts (R2 completes the multipart upload) once every chunk is
   * recorded, then queues the transcode job. Safe to call any number of times.
   */
  async complete(token: string): Promise<Outcome<{ status: VideoStatus }>> {
    const denied = await this.authorize(token);
    if (denied) return denied;
    const meta = this.store.meta()!;
    if (meta.status === "aborted" || meta.status === "expired") return closed(meta.status);
    if (meta.status !== "uploading") {
      await this.publish(meta);
      return { ok: true, status: meta.status };
    }
    if (this.merging) return this.merging;
    const missing = this.store.missingChunks(meta.totalChunks);
    if (missing.length > 0) {
      return refuse("missing_chunks", `${missing.length} chunk(s) have not been received.`, { missing });
    }
    this.merging = this.merge(meta).finally(() => (this.merging = null));
    return this.merging;
  }

  /** Aborts an unfinished upload: R2 drops every part, and chunks are refused from then on. */
  async abort(token: string): Promise<Outcome<{ status: VideoStatus }>> {
    const denied = await this.authorize(token);
    if (denied) return denied;
    const meta = this.store.meta()!;
    if (meta.status === "aborted" || meta.status === "expired") return { ok: true, status: meta.status };
    if (meta.status !== "uploading" || this.merging) {
      return refuse("upload_completed", "The upload is complete; it can no longer be aborted.", {
        status: meta.status,
      });
    }
    await this.end(meta, "aborted");
    return { ok: true, status: "aborted" };
  }

  /** 404 for an unknown (or deleted) video, 401 for a wrong token. */
  async authorizeOwner(token: string): Promise<Outcome<{ videoId: string }>> {
    const denied = await this.authorize(token);
    if (denied) return denied;
    return { ok: true, videoId: this.store.meta()!.videoId };
  }

  /**
   * Deletes the video everywhere: R2 objects (source, every job's outputs),
   * the D1 row (and with it the search entry) and this object's state. The
   * state goes first, so a late chunk, completion or transcoder callback
   * finds nothing to resurrect; an alarm sweeps R2 once more for any write
   * that was already past its check.
   */
  async purge(): Promise<Outcome<{ videoId: string }>> {
    const meta = this.store.meta();
    if (!meta) return refuse("not_found", "No such video.");
    const now = Date.now();
    this.store.bury(meta.videoId, now);
    this.ledger.forget();
    if (meta.status === "uploading") {
      await this.env.VIDEOS.resumeMultipartUpload(meta.r2Key, meta.r2UploadId)
        .abort()
        .catch(() => {});
    }
    await deletePrefix(this.env.VIDEOS, videoPrefix(meta.videoId));
    await deleteVideoRow(this.env.DB, meta.videoId);
    await this.ctx.storage.setAlarm(now + SWEEP_AFTER_MS);
    return { ok: true, videoId: meta.videoId };
  }

  /** Where the original file is, for its owner. */
  async source(
    token: string,
  ): Promise<Outcome<{ r2Key: string; filename: string; contentType: string; size: number }>> {
    const denied = await this.authorize(token);
    if (denied) return denied;
    const meta = this.store.meta()!;
    if (meta.status === "uploading" || meta.status === "aborted" || meta.status === "expired") {
      return refuse("source_unavailable", `The source is not available while the upload is ${meta.status}.`, {
        status: meta.status,
      });
    }
    return { ok: true, r2Key: meta.r2Key, filename: meta.filename, contentType: meta.contentType, size: meta.size };
  }

  // --- Processing: called by the queue consumer and the transcoder's signed callbacks.

  startJob(attempt: number): Promise<JobStart> {
    return this.ledger.startJob(attempt);
  }

  handedOff(jobId: string, result: HandOffResult): Promise<void> {
    return this.ledger.handedOff(jobId, result);
  }

  /** Where job `jobId` reads its source, if it is still the current job. */
  async jobSource(jobId: string): Promise<Outcome<{ r2Key: string; size: number }>> {
    const meta = this.store.meta();
    if (!meta || !this.ledger.jobIsCurrent(jobId)) return refuse("job_superseded", "This job is no longer current.");
    return { ok: true, r2Key: meta.r2Key, size: meta.size };
  }

  async jobIsCurrent(jobId: string): Promise<boolean> {
    return this.ledger.jobIsCurrent(jobId);
  }

  jobEvent(event: JobEvent): Promise<Outcome<{ status: string }>> {
    return this.ledger.event(event);
  }

  /** The dead-letter queue's verdict: the job could not be handed off at all. */
  failProcessing(reason: string): Promise<void> {
    return this.ledger.fail(reason);
  }

  async processing() {
    return { status: this.store.meta()?.status, ...this.ledger.processing() };
  }

  /** Expires an idle upload; while processing, watches the current job's heartbeat. */
  override async alarm(): Promise<void> {
    const buried = this.store.tombstone();
    if (buried) {
      await deletePrefix(this.env.VIDEOS, videoPrefix(buried.videoId));
      await this.ctx.storage.deleteAll();
      this.open();
      return;
    }
    const meta = this.store.meta();
    if (meta?.status === "processing" || meta?.status === "ready") return this.ledger.watchdog();
    if (meta?.status !== "uploading") return;
    const now = Date.now();
    if (now < meta.expiresAt || this.merging) {
      await this.ctx.storage.setAlarm(Math.max(meta.expiresAt, now + 60_000));
      return;
    }
    await this.end(meta, "expired");
  }

  private async merge(meta: UploadMeta): Promise<Outcome<{ status: VideoStatus }>> {
    const parts = this.store.parts();
    const upload = this.env.VIDEOS.resumeMultipartUpload(meta.r2Key, meta.r2UploadId);
    try {
      await upload.complete(parts);
    } catch (err) {
      // Already merged by an earlier call that died before recording it?
      const head = await this.env.VIDEOS.head(meta.r2Key);
      if (!head || head.size !== meta.size || head.uploaded.getTime() < meta.createdAt) {
        // A part was overwritten by a writer whose lease had been taken over:
        // forget the chunks that were contended so the client sends them again.
        const missing = this.store.forgetContended();
        if (missing.length === 0) throw err;
        return refuse("missing_chunks", "Some chunks must be sent again.", { missing });
      }
    }
    this.store.setStatus("processing", Date.now());
    const merged = this.store.meta();
    // Deleted while R2 was merging: the alarm's sweep removes the merged object.
    if (!merged) return refuse("not_found", "The video was deleted while it was being completed.");
    await this.publish(merged);
    return { ok: true, status: merged.status };
  }

  /** Mirrors the status to D1 and queues the job; idempotent, retried by the next `complete`. */
  private async publish(meta: UploadMeta): Promise<void> {
    if (meta.jobSent) return;
    await setVideoStatus(this.env.DB, meta.videoId, meta.status, Date.now());
    await this.env.TRANSCODE_QUEUE.send({ videoId: meta.videoId, attempt: 1 } satisfies TranscodeJob);
    this.store.setJobSent();
  }

  private async end(meta: UploadMeta, status: "aborted" | "expired"): Promise<void> {
    const now = Date.now();
    this.store.setStatus(status, now);
    this.store.clearLeases();
    try {
      await this.env.VIDEOS.resumeMultipartUpload(meta.r2Key, meta.r2UploadId).abort();
    } catch {
      // Already gone (aborted before, or R2 expired it): nothing left to free.
    }
    await setVideoStatus(this.env.DB, meta.videoId, status, now);
    await this.ctx.storage.deleteAlarm();
  }

  /** 404 for an unknown upload, 401 for a wrong token; undefined when allowed. */
  private async authorize(token: string): Promise<Refusal | undefined> {
    const meta = this.store.meta();
    if (!meta) return refuse("not_found", "No such upload.");
    if (!(await safeEqual(await sha256Hex(token), meta.tokenHash))) {
      return refuse("invalid_token", "The token does not grant access to this upload.");
    }
    return undefined;
  }

  /** Any activity pushes expiry back; the alarm re-arms itself when it fires early. */
  private touch(now: number): void {
    this.store.setExpiresAt(now + this.store.meta()!.ttlMs);
  }

  private snapshot(): UploadSnapshot {
    const meta = this.store.meta()!;
    return {
      videoId: meta.videoId,
      status: meta.status,
      size: meta.size,
      chunkSize: meta.chunkSize,
      totalChunks: meta.totalChunks,
      received: this.store.receivedChunks(),
      expiresAt: new Date(meta.expiresAt).toISOString(),
    };
  }
}

function closed(status: VideoStatus): Refusal {
  return refuse("upload_closed", `The upload is ${status}; it no longer accepts this request.`, { status });
}

function digestMismatch(n: number, arrival: ChunkArrival): Refusal {
  return refuse("digest_mismatch", `Chunk ${n} does not match its Content-Digest; nothing was kept.`, {
    expected: arrival.claimedSha256,
    actual: arrival.sha256,
  });
}

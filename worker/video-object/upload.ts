/**
 * The upload, the part of the video's Durable Object that receives the
 * source: the R2 multipart upload id, which chunks were recorded with which
 * SHA-256 and part etag, which request holds which chunk's lease, and the
 * statuses `uploading → processing`, or `aborted` / `expired`.
 *
 * Three ways in share it: our upload API, tus (worker/uploads/tus-routes.ts)
 * and an import from a URL (`importing → processing | failed`,
 * worker/imports/). A direct creator upload reserves the video first: the
 * capability to create it once.
 *
 * Chunk bytes never pass through here, and neither do the rules about them:
 * the Worker streams a chunk into R2 and checks its length and digest, and
 * asks this part for a lease before and to record the part after.
 */
import { readConfig } from "../config.ts";
import type { VideoStatus, Visibility } from "../contracts/vocabulary.ts";
import { newToken, safeEqual, sha256Hex } from "../crypto/tokens.ts";
import { deleteVideoRow, getVideo, insertVideo, reservedBytes, setVideoStatus, updateVideo } from "../db/videos.ts";
import { sourceKey } from "../storage/keys.ts";
import { type ChunkPlan, expectedChunkBytes, planChunks } from "../uploads/chunk-plan.ts";
import { type Outcome, type Refusal, refuse } from "./outcome.ts";
import type { Events } from "./events.ts";
import type { DirectUpload, Video, VideoStore } from "./store.ts";
import type { UploadOrigin } from "./tables.ts";

/**
 * How long a chunk request holds its part number without renewing it. The
 * request renews at most every `CHUNK_LEASE_RENEW_MS`, and only when bytes
 * arrived since its last renewal, so a slow upload keeps its lease, while a
 * request that died with its Worker (a crash, a restart) or whose client
 * stalled frees the chunk within seconds.
 */
export const CHUNK_LEASE_MS = 15_000;
export const CHUNK_LEASE_RENEW_MS = 5_000;

/** An import that records no chunk for this long has stopped (its fetches keep failing): it fails. */
export const IMPORT_IDLE_MS = 15 * 60_000;

/**
 * Who asks about an upload: the holder of its upload token; a tus client at
 * the upload's URL, which is the capability of an upload created by tus
 * (as on Cloudflare Stream); or the import that fetches the video's bytes.
 */
export type UploadAccess = { token: string } | { tusUrl: true } | { importer: true };

/** A direct creator upload's secret, and the `Origin` of the request that uses it. */
export type DirectUse = { secret: string; requestOrigin: string | null };

export type NewUpload = {
  videoId: string;
  plan: ChunkPlan;
  filename: string;
  contentType: string;
  title: string;
  description: string;
  tags: string[];
  visibility: Visibility;
  /** Who created it (a keyed hash of the client's address), for the cap on the bytes a client reserves. */
  clientKey: string;
  /** That cap: `MAX_RESERVED_BYTES_PER_CLIENT` as the Worker that took the request reads it. */
  maxReservedBytes: number;
  /** How it arrives; `api` unless said. */
  origin?: "api" | "tus";
  /** Set when a direct creator upload's capability creates the video. */
  direct?: DirectUse;
};

/** `POST /api/direct-uploads`: what the creator set, and the capability's limits. */
export type NewDirectUpload = {
  secret: string;
  expiresAt: number;
  maxSizeBytes: number;
  title?: string | undefined;
  description?: string | undefined;
  tags?: string[] | undefined;
  visibility?: Visibility | undefined;
  allowedOrigin?: string | undefined;
};

/** `POST /api/imports`: the URL and what the importer set; the file's size and type come from the URL's server. */
export type NewImport = {
  videoId: string;
  url: string;
  filename: string;
  title: string;
  description: string;
  tags: string[];
  visibility: Visibility;
  clientKey: string;
};

/** What the import's fetcher needs: where from, and (once sized) the chunks still missing. */
export type ImportState = {
  status: VideoStatus;
  url: string;
  /** 0 until the URL's server said the file's size. */
  size: number;
  chunkSize: number;
  totalChunks: number;
  received: number[];
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

/** A new chunk is leased for writing; a recorded one is only described, for the Worker to compare a resend with. */
export type ChunkGrant =
  | { mode: "upload"; leaseId: string; expectedBytes: number; r2Key: string; r2UploadId: string }
  | { mode: "verify"; expectedBytes: number; sha256: string; received: number; totalChunks: number };

/** A chunk's part as the Worker stored it, its length and SHA-256 already checked against the chunk's rules. */
export type StoredChunk = { leaseId: string; bytes: number; sha256: string; etag: string };

type Completion = Outcome<{ status: VideoStatus }>;

export class Upload {
  private readonly store: VideoStore;
  private readonly env: Env;
  private readonly events: Events;
  /** Hands the merged video over to processing. */
  private readonly handOver: () => Promise<void>;
  /** The merge in progress, shared by concurrent `complete` calls. Lost on eviction, as it should be. */
  private merging: Promise<Completion> | null = null;

  constructor(store: VideoStore, env: Env, events: Events, handOver: () => Promise<void>) {
    this.store = store;
    this.env = env;
    this.events = events;
    this.handOver = handOver;
  }

  get isMerging(): boolean {
    return this.merging !== null;
  }

  async create(request: NewUpload): Promise<Outcome<{ uploadToken: string; snapshot: UploadSnapshot }>> {
    let input = request;
    if (input.direct) {
      const reservation = this.store.directUpload();
      const refused = await directRefusal(reservation, input, this.store.video() !== undefined);
      if (refused) return refused;
      input = withReserved(input, reservation!);
    } else if (this.store.directUpload()) {
      return refuse("upload_exists", "This video is reserved for a direct upload.");
    }
    if (this.store.video()) return refuse("upload_exists", "This upload was already created.");
    const overQuota = await this.quotaRefusal(input, false);
    if (overQuota) return overQuota;
    const now = Date.now();
    const ttlMs = readConfig(this.env).uploadTtlMs;
    const uploadToken = newToken();
    const { r2Key, mpu } = await this.openSource(input, {
      size: input.plan.size,
      contentType: input.contentType,
      status: "uploading",
      createdAt: now,
    });
    // Creations by one client at the same moment all passed the first check:
    // each counts again with its own row in, and any that went over leaves.
    // Racing ones may all leave; none stays over the cap.
    const wentOver = await this.quotaRefusal(input, true);
    if (wentOver) {
      await deleteVideoRow(this.env.DB, input.videoId);
      await mpu.abort().catch(() => {});
      return wentOver;
    }
    this.store.insertVideo({
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
      updatedAt: now,
      expiresAt: now + ttlMs,
      ttlMs,
      origin: input.origin ?? "api",
    });
    await this.created(input.videoId, input.origin ?? "api");
    return { ok: true, uploadToken, snapshot: this.snapshot() };
  }

  /**
   * Reserves this video for a direct creator upload: whoever holds `secret`
   * may create it once (`create` with `direct`), by tus or our API, until
   * `expiresAt`; the alarm forgets a reservation that lapsed unused.
   */
  async reserveDirect(input: NewDirectUpload): Promise<Outcome<{ expiresAt: string }>> {
    if (this.store.video() || this.store.directUpload()) return refuse("upload_exists", "This video already exists.");
    this.store.reserveDirectUpload({
      tokenHash: await sha256Hex(input.secret),
      expiresAt: input.expiresAt,
      maxSizeBytes: input.maxSizeBytes,
      title: input.title ?? null,
      description: input.description ?? null,
      tags: input.tags ?? null,
      visibility: input.visibility ?? null,
      allowedOrigin: input.allowedOrigin ?? null,
      createdAt: Date.now(),
    });
    return { ok: true, expiresAt: new Date(input.expiresAt).toISOString() };
  }

  /** The alarm's end of a direct upload that lapsed unused: true when the object may forget everything. */
  lapsed(now: number): boolean {
    const reservation = this.store.directUpload();
    return reservation !== undefined && !this.store.video() && reservation.expiresAt <= now;
  }

  /**
   * Starts an import: the video exists (`importing`, size unknown) and its
   * R2 multipart upload is open; the fetcher sizes it (`sizeImport`) once
   * the URL's server answers, then stores chunks like any upload.
   */
  async createImport(input: NewImport): Promise<Outcome<{ uploadToken: string }>> {
    if (this.store.video() || this.store.directUpload()) return refuse("upload_exists", "This video already exists.");
    const now = Date.now();
    const uploadToken = newToken();
    const contentType = "application/octet-stream";
    const { r2Key, mpu } = await this.openSource(input, { size: 0, contentType, status: "importing", createdAt: now });
    this.store.insertVideo({
      videoId: input.videoId,
      r2Key,
      r2UploadId: mpu.uploadId,
      tokenHash: await sha256Hex(uploadToken),
      filename: input.filename,
      contentType,
      size: 0,
      chunkSize: 0,
      totalChunks: 0,
      status: "importing",
      jobSent: false,
      createdAt: now,
      updatedAt: now,
      expiresAt: now + IMPORT_IDLE_MS,
      ttlMs: IMPORT_IDLE_MS,
      origin: "import",
      importUrl: input.url,
    });
    await this.created(input.videoId, "import");
    return { ok: true, uploadToken };
  }

  /** Where the import fetches from, and what it still needs; undefined once it is not importing. */
  importState(): ImportState | undefined {
    const video = this.store.video();
    if (video?.origin !== "import" || !video.importUrl) return undefined;
    return {
      status: video.status,
      url: video.importUrl,
      size: video.size,
      chunkSize: video.chunkSize,
      totalChunks: video.totalChunks,
      received: this.store.receivedChunks(),
    };
  }

  /**
   * The URL's server said the file's size and type: the chunk plan follows.
   * A later fetch that reports another size means the file changed under
   * the import, which then fails rather than merge two files.
   */
  async sizeImport(file: { size: number; contentType: string; filename?: string }): Promise<Outcome<ImportState>> {
    const video = this.store.video();
    if (video?.status !== "importing") return closed(video?.status ?? "failed");
    if (video.size !== 0) {
      if (video.size === file.size) return { ok: true, ...this.importState()! };
      return refuse(
        "changed",
        `The file at the URL changed size (${video.size} → ${file.size} bytes) during the import.`,
      );
    }
    const config = readConfig(this.env);
    const plan = planChunks(file.size, config.defaultChunkSize);
    const now = Date.now();
    const filename = file.filename ?? video.filename;
    this.store.updateVideo({ ...plan, contentType: file.contentType, filename, updatedAt: now });
    await updateVideo(this.env.DB, video.videoId, { size: file.size, contentType: file.contentType, filename }, now);
    // Sized, the import reserves its bytes like an upload, within its client's cap (its own row now counts).
    const clientKey = (await getVideo(this.env.DB, video.videoId))?.clientKey;
    if (clientKey) {
      const overQuota = await this.quotaRefusal(
        { clientKey, plan, maxReservedBytes: config.maxReservedBytesPerClient },
        true,
      );
      if (overQuota) return overQuota;
    }
    return { ok: true, ...this.importState()! };
  }

  /** The import cannot go on (unreachable URL, not a video, too large): the video fails with `reason`. */
  async failImport(reason: string): Promise<void> {
    const video = this.store.video();
    if (video?.status !== "importing") return;
    const now = Date.now();
    this.store.updateVideo({ status: "failed", error: reason, updatedAt: now });
    this.store.clearLeases();
    await this.env.VIDEOS.resumeMultipartUpload(video.r2Key, video.r2UploadId)
      .abort()
      .catch(() => {});
    await updateVideo(this.env.DB, video.videoId, { status: "failed", error: reason, progress: null }, now);
    await this.events.emit({ videoId: video.videoId, type: "video.failed", data: { reason }, once: "failed" });
  }

  private created(videoId: string, origin: UploadOrigin): Promise<void> {
    return this.events.emit({ videoId, type: "video.upload.created", data: { origin }, once: "upload.created" });
  }

  /**
   * Opens the video's R2 multipart upload and inserts its D1 row, from what
   * the client set and how the video arrives; the multipart upload is
   * aborted again if the row cannot be inserted.
   */
  private async openSource(
    input: Pick<NewImport, "videoId" | "title" | "description" | "tags" | "visibility" | "filename" | "clientKey">,
    arrival: { size: number; contentType: string; status: "uploading" | "importing"; createdAt: number },
  ): Promise<{ r2Key: string; mpu: R2MultipartUpload }> {
    const r2Key = sourceKey(input.videoId);
    const mpu = await this.env.VIDEOS.createMultipartUpload(r2Key, {
      httpMetadata: { contentType: arrival.contentType },
    });
    try {
      await insertVideo(this.env.DB, {
        id: input.videoId,
        title: input.title,
        description: input.description,
        tags: input.tags,
        visibility: input.visibility,
        filename: input.filename,
        clientKey: input.clientKey,
        ...arrival,
        ...(arrival.status === "importing" ? { progress: 0 } : {}),
        updatedAt: arrival.createdAt,
      });
    } catch (err) {
      await mpu.abort();
      throw err;
    }
    return { r2Key, mpu };
  }

  /**
   * 429 `upload_quota_exceeded` when this upload would take its client's
   * unfinished uploads past `MAX_RESERVED_BYTES_PER_CLIENT`; `counted` says
   * whether its own row is already among them.
   */
  private async quotaRefusal(
    input: Pick<NewUpload, "clientKey" | "plan" | "maxReservedBytes">,
    counted: boolean,
  ): Promise<Refusal | undefined> {
    const limitBytes = input.maxReservedBytes;
    const reserved = await reservedBytes(this.env.DB, input.clientKey);
    const others = counted ? reserved - input.plan.size : reserved;
    if (others + input.plan.size <= limitBytes) return undefined;
    return refuse(
      "upload_quota_exceeded",
      `Your unfinished uploads already reserve ${others} bytes; this one would pass the limit of ${limitBytes}. ` +
        "Finish or abort some first.",
      { reservedBytes: others, limitBytes },
    );
  }

  async describe(access: UploadAccess): Promise<Outcome<{ snapshot: UploadSnapshot }>> {
    const denied = await this.authorize(access);
    if (denied) return denied;
    return { ok: true, snapshot: this.snapshot() };
  }

  /**
   * Asks to store chunk `n`. A chunk already recorded is only described (its
   * part is never overwritten, so a bad resend cannot damage a good part); a
   * new one gets a lease so that two requests never write the same part at once.
   */
  async beginChunk(access: UploadAccess, n: number): Promise<Outcome<ChunkGrant>> {
    const denied = await this.authorize(access);
    if (denied) return denied;
    const video = this.store.video()!;
    if (!receiving(video)) return closed(video.status);
    if (n > video.totalChunks) {
      return refuse("invalid_chunk_index", `Chunk index must be 1..${video.totalChunks}.`, {
        totalChunks: video.totalChunks,
      });
    }
    const expectedBytes = expectedChunkBytes(video, n);
    const recorded = this.store.chunk(n);
    if (recorded) {
      return {
        ok: true,
        mode: "verify",
        expectedBytes,
        sha256: recorded.sha256,
        received: this.store.receivedCount(),
        totalChunks: video.totalChunks,
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
    this.touch(video, now);
    return { ok: true, mode: "upload", leaseId, expectedBytes, r2Key: video.r2Key, r2UploadId: video.r2UploadId };
  }

  /** Records chunk `n` once its checked bytes are in R2, if the request still holds its lease. */
  async recordChunk(n: number, stored: StoredChunk): Promise<Outcome<{ received: number; totalChunks: number }>> {
    const video = this.store.video();
    if (!video) return refuse("not_found", "No such upload.");
    if (!receiving(video)) return closed(video.status);
    if (this.store.lease(n)?.leaseId !== stored.leaseId) {
      return refuse("chunk_superseded", `Another request took over chunk ${n}; its result stands.`);
    }
    const now = Date.now();
    this.store.recordChunk({ n, size: stored.bytes, sha256: stored.sha256, etag: stored.etag, recordedAt: now });
    this.touch(video, now);
    const received = this.store.receivedCount();
    if (video.status === "importing") {
      await updateVideo(this.env.DB, video.videoId, { progress: received / video.totalChunks }, now);
    }
    return { ok: true, received, totalChunks: video.totalChunks };
  }

  /** Keeps live requests' leases from expiring while their bodies are still streaming. */
  renewLeases(leases: { n: number; leaseId: string }[]): void {
    const now = Date.now();
    for (const { n, leaseId } of leases)
      if (this.store.lease(n)?.leaseId === leaseId) this.store.putLease(n, leaseId, now);
  }

  /** Gives a lease back when the bytes were refused or never arrived (dropped connection, wrong length or digest). */
  releaseChunk(n: number, leaseId: string): void {
    if (this.store.lease(n)?.leaseId === leaseId) this.store.deleteLease(n);
  }

  /**
   * Merges the parts (R2 completes the multipart upload) once every chunk is
   * recorded, then hands the video over to processing. Safe to call any
   * number of times.
   */
  async complete(access: UploadAccess): Promise<Completion> {
    const denied = await this.authorize(access);
    if (denied) return denied;
    const video = this.store.video()!;
    if (video.status === "aborted" || video.status === "expired") return closed(video.status);
    if (video.status === "failed" && video.origin === "import") return closed(video.status);
    if (!receiving(video)) {
      await this.handOver();
      return { ok: true, status: video.status };
    }
    if (this.merging) return this.merging;
    const missing = this.store.missingChunks(video.totalChunks);
    if (missing.length > 0) {
      return refuse("missing_chunks", `${missing.length} chunk(s) have not been received.`, { missing });
    }
    this.merging = this.merge(video).finally(() => {
      this.merging = null;
    });
    return this.merging;
  }

  /** Aborts an unfinished upload: R2 drops every part, and chunks are refused from then on. */
  async abort(access: UploadAccess): Promise<Completion> {
    const denied = await this.authorize(access);
    if (denied) return denied;
    const video = this.store.video()!;
    if (video.status === "aborted" || video.status === "expired") return { ok: true, status: video.status };
    if (!receiving(video) || this.merging) {
      return refuse("upload_completed", "The upload is complete; it can no longer be aborted.", {
        status: video.status,
      });
    }
    await this.end(video, "aborted");
    return { ok: true, status: "aborted" };
  }

  /** The alarm's expiry: the upload sat idle past its TTL, or the import stopped. */
  async expire(): Promise<void> {
    const video = this.store.video();
    if (video?.status === "uploading") await this.end(video, "expired");
    if (video?.status === "importing") {
      await this.failImport("The import stopped: nothing more arrived from the URL for too long.");
    }
  }

  /** `not_found` for an unknown (or deleted) video, `invalid_token` for a wrong token. */
  async authorizeOwner(token: string): Promise<Outcome<{ videoId: string }>> {
    const denied = await this.authorize({ token });
    if (denied) return denied;
    return { ok: true, videoId: this.store.video()!.videoId };
  }

  /** Where the original file is, for its owner. */
  async source(
    token: string,
  ): Promise<Outcome<{ r2Key: string; filename: string; contentType: string; size: number }>> {
    const denied = await this.authorize({ token });
    if (denied) return denied;
    const video = this.store.video()!;
    if (receiving(video) || video.status === "aborted" || video.status === "expired" || video.size === 0) {
      return refuse("source_unavailable", `The source is not available while the upload is ${video.status}.`, {
        status: video.status,
      });
    }
    return {
      ok: true,
      r2Key: video.r2Key,
      filename: video.filename,
      contentType: video.contentType,
      size: video.size,
    };
  }

  private async merge(video: Video): Promise<Completion> {
    const parts = this.store.parts();
    const upload = this.env.VIDEOS.resumeMultipartUpload(video.r2Key, video.r2UploadId);
    try {
      await upload.complete(parts);
    } catch (err) {
      // Already merged by an earlier call that died before recording it?
      const head = await this.env.VIDEOS.head(video.r2Key);
      if (!head || head.size !== video.size || head.uploaded.getTime() < video.createdAt) {
        // A part was overwritten by a writer whose lease had been taken over:
        // forget the chunks that were contended so the client sends them again.
        const missing = this.store.forgetContended();
        if (missing.length === 0) throw err;
        return refuse("missing_chunks", "Some chunks must be sent again.", { missing });
      }
    }
    this.store.updateVideo({ status: "processing", updatedAt: Date.now() });
    const merged = this.store.video();
    // Deleted while R2 was merging: the alarm's sweep removes the merged object.
    if (!merged) return refuse("not_found", "The video was deleted while it was being completed.");
    await this.events.emit({ videoId: video.videoId, type: "video.upload.completed", once: "upload.completed" });
    await this.handOver();
    return { ok: true, status: merged.status };
  }

  private async end(video: Video, status: "aborted" | "expired"): Promise<void> {
    const now = Date.now();
    this.store.updateVideo({ status, updatedAt: now });
    this.store.clearLeases();
    try {
      await this.env.VIDEOS.resumeMultipartUpload(video.r2Key, video.r2UploadId).abort();
    } catch {
      // Already gone (aborted before, or R2 expired it): nothing left to free.
    }
    await setVideoStatus(this.env.DB, video.videoId, status, now);
    const type = status === "aborted" ? "video.upload.aborted" : "video.upload.expired";
    await this.events.emit({ videoId: video.videoId, type, once: "upload.ended" });
  }

  /** `not_found` for an unknown upload, `invalid_token` for a wrong token; undefined when allowed. */
  private async authorize(access: UploadAccess): Promise<Refusal | undefined> {
    const video = this.store.video();
    if (!video) return refuse("not_found", "No such upload.");
    if ("tusUrl" in access) {
      if (video.origin === "tus") return undefined;
      return refuse(
        "missing_token",
        "This upload was not created by tus: send its upload token as `Authorization: Bearer <uploadToken>`.",
      );
    }
    if ("importer" in access) return video.origin === "import" ? undefined : refuse("not_found", "No such import.");
    if (!(await safeEqual(await sha256Hex(access.token), video.tokenHash))) {
      return refuse("invalid_token", "The token does not grant access to this upload.");
    }
    return undefined;
  }

  /** Any activity moves expiry later. */
  private touch(video: Video, now: number): void {
    this.store.updateVideo({ expiresAt: now + video.ttlMs, updatedAt: now });
  }

  private snapshot(): UploadSnapshot {
    const video = this.store.video()!;
    return {
      videoId: video.videoId,
      status: video.status,
      size: video.size,
      chunkSize: video.chunkSize,
      totalChunks: video.totalChunks,
      received: this.store.receivedChunks(),
      expiresAt: new Date(video.expiresAt).toISOString(),
    };
  }
}

/** Whether the video still takes chunks: an upload, or an import, before completion. */
const receiving = (video: Video) => video.status === "uploading" || video.status === "importing";

/**
 * Why a direct creator upload's capability may not create the video now;
 * undefined when it may. `used`: the video was already created.
 */
async function directRefusal(
  reservation: DirectUpload | undefined,
  input: NewUpload,
  used: boolean,
): Promise<Refusal | undefined> {
  const use = input.direct!;
  if (!reservation) return refuse("not_found", "No such direct upload.");
  if (!(await safeEqual(await sha256Hex(use.secret), reservation.tokenHash))) {
    return refuse("invalid_token", "This direct upload link is not valid.");
  }
  if (used) return refuse("direct_upload_used", "This direct upload link was already used for a video.");
  if (Date.now() >= reservation.expiresAt) {
    return refuse("direct_upload_expired", "This direct upload link has expired; ask for a new one.", {
      expiresAt: new Date(reservation.expiresAt).toISOString(),
    });
  }
  if (reservation.allowedOrigin && use.requestOrigin !== null && use.requestOrigin !== reservation.allowedOrigin) {
    return refuse("origin_not_allowed", `This direct upload link may be used only from ${reservation.allowedOrigin}.`);
  }
  if (input.plan.size > reservation.maxSizeBytes) {
    return refuse(
      "payload_too_large",
      `This direct upload link takes files of at most ${reservation.maxSizeBytes} bytes; this one has ${input.plan.size}.`,
      { limitBytes: reservation.maxSizeBytes },
    );
  }
  return undefined;
}

/** The creator's choices (title, description, tags, visibility) win over what the browser sent. */
function withReserved(input: NewUpload, reservation: DirectUpload): NewUpload {
  return {
    ...input,
    title: reservation.title ?? input.title,
    description: reservation.description ?? input.description,
    tags: reservation.tags ?? input.tags,
    visibility: reservation.visibility ?? input.visibility,
  };
}

function closed(status: VideoStatus): Refusal {
  return refuse("upload_closed", `The upload is ${status}; it no longer accepts this request.`, { status });
}

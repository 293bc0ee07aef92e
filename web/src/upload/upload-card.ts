/**
 * One file's upload, from first chunk to playable video: start, pause (abort;
 * the server keeps what arrived), resume (only missing chunks are sent),
 * cancel, then follow processing until the watch link can be shown. Each
 * unfinished upload is remembered in IndexedDB so it survives a reload.
 */
import type { ErrorCode } from "../../../worker/contracts/errors.ts";
import type { CreateUpload, UploadStatus } from "../../../worker/contracts/upload.ts";
import { cancelUpload, errorMessage } from "../api.ts";
import { h } from "../dom.ts";
import { formatBytes, formatPercent, formatSpeed, formatTimeLeft } from "../format.ts";
import { ApiError } from "../http.ts";
import { forgetOwner, rememberOwner } from "../owner-tokens.ts";
import { firstChunkSha256, removeUpload, saveUpload, type StoredUpload } from "../upload-store.ts";
import { upload, type UploadOptions, type UploadProgress, type UploadSession } from "../upload-client.ts";
import { CardView } from "./card-view.ts";
import { directLinkRefusal } from "./direct-link.ts";
import { followProcessing } from "./processing-status.ts";
import { TransferRate } from "./transfer-rate.ts";
import { declaredType } from "../../../worker/contracts/source-types.ts";

/** 5 MiB: R2's smallest part, so a lost connection costs little and progress moves often. */
export const CHUNK_SIZE = 5 * 1024 * 1024;
const CONCURRENCY = 4;

/** What the form says of the video, as `POST /api/uploads` takes it. */
export type UploadMeta = Required<Pick<CreateUpload, "title" | "description" | "tags" | "visibility">>;
type State = "queued" | "needs-file" | "uploading" | "paused" | "failed" | "processing" | "ready" | "cancelled";

export class UploadCard {
  readonly view: CardView;
  state: State = "queued";
  /** Called whenever this card stops using the connection (done, paused, failed, cancelled). */
  onIdle: () => void = () => {};
  /** Called when sending starts or resumes. */
  onStart: () => void = () => {};
  /** Why a direct upload link refused to create this upload (direct-link.ts), once it has. */
  refused?: ErrorCode;
  private file?: File;
  private session?: { videoId: string; uploadToken: string };
  private stored?: StoredUpload;
  /** The direct upload link's capability this card's upload is created with, if any. */
  private direct?: string;
  private chunkSize = CHUNK_SIZE;
  private readonly meta: UploadMeta;
  private controller?: AbortController;
  private cancelled = false;
  private persisted: Promise<void> = Promise.resolve();
  private readonly rate = new TransferRate();
  private stopPolling?: () => void;

  private constructor(meta: UploadMeta, filename: string, size: number) {
    this.meta = meta;
    this.view = new CardView(meta.title, filename, size);
  }

  static forFile(file: File, meta: UploadMeta, direct?: string): UploadCard {
    const card = new UploadCard(meta, file.name, file.size);
    card.file = file;
    card.direct = direct;
    card.setState("queued");
    card.view.status("Waiting for the uploads before it…");
    card.view.actions([{ label: "Cancel", onClick: () => void card.cancel() }]);
    return card;
  }

  /** An upload left unfinished earlier: the person must pick the same file again. */
  static forStored(rec: StoredUpload, status: UploadStatus | null): UploadCard {
    const card = new UploadCard(
      { title: rec.title, description: "", tags: [], visibility: "public" },
      rec.filename,
      rec.size,
    );
    card.stored = rec;
    card.session = { videoId: rec.videoId, uploadToken: rec.uploadToken };
    card.chunkSize = status?.chunkSize ?? rec.chunkSize;
    card.view.root.dataset.videoId = rec.videoId;
    const received = status ? status.received.length / Math.max(1, status.totalChunks) : 0;
    card.view.setFraction(received);
    card.view.setNumbers(`${formatPercent(received)} of ${formatBytes(rec.size)} already uploaded`, "", "");
    card.askForFile();
    return card;
  }

  get videoId(): string | undefined {
    return this.session?.videoId;
  }

  /** Same name and size as the stored upload: worth hashing to be sure. */
  mayBe(file: File): boolean {
    return (
      this.state === "needs-file" &&
      !!this.stored &&
      file.name === this.stored.filename &&
      file.size === this.stored.size
    );
  }

  /** Checks a re-picked file against the stored one and resumes with it; false if it is not the same file. */
  async offerFile(file: File): Promise<boolean> {
    const rec = this.stored!;
    const same =
      file.name === rec.filename &&
      file.size === rec.size &&
      (await firstChunkSha256(file, this.chunkSize)) === rec.firstChunkSha256;
    if (!same) {
      this.view.status(
        `“${file.name}” is not the file this upload started with (${rec.filename}, ${formatBytes(rec.size)}). Choose that one.`,
        true,
      );
      return false;
    }
    this.file = file;
    this.start();
    return true;
  }

  start(): void {
    if (!this.file || this.state === "uploading") return;
    this.setState("uploading");
    this.cancelled = false;
    this.rate.reset();
    this.view.resetAnnouncements();
    this.view.extra();
    this.view.status(this.session ? "Resuming: sending only the missing parts…" : "Uploading…");
    this.onStart();
    this.view.actions([
      { label: "Pause", onClick: () => this.pause() },
      { label: "Cancel", onClick: () => void this.cancel(), danger: true },
    ]);
    const controller = new AbortController();
    this.controller = controller;
    const options: UploadOptions = {
      endpoint: location.origin,
      file: this.file,
      filename: this.file.name,
      contentType: declaredType(this.file),
      title: this.meta.title,
      description: this.meta.description,
      tags: this.meta.tags,
      visibility: this.meta.visibility,
      chunkSize: CHUNK_SIZE,
      concurrency: CONCURRENCY,
      resume: this.session,
      direct: this.direct,
      onSession: (s) => this.sessionStarted(s),
      onProgress: (p) => this.progressed(p),
      signal: controller.signal,
    };
    upload(options).then(
      () => this.uploaded(),
      (err) => this.stopped(err, controller.signal.aborted),
    );
  }

  pause(): void {
    if (this.state === "uploading") this.controller?.abort();
  }

  async cancel(): Promise<void> {
    this.cancelled = true;
    this.controller?.abort();
    this.setState("cancelled");
    this.view.actions([]);
    this.view.extra();
    this.view.setNumbers("", "", "");
    this.view.status("Cancelled.");
    if (!this.session) return this.onIdle();
    const { videoId, uploadToken } = this.session;
    try {
      await cancelUpload(videoId, uploadToken);
    } catch (err) {
      // Already gone or finished: either way nothing more to send.
      if (!(err instanceof ApiError && (err.code === "not_found" || err.code === "upload_completed"))) {
        this.view.status(`Cancelled here, but the server could not be told: ${errorMessage(err)}`, true);
      }
    }
    await this.persisted;
    await removeUpload(videoId).catch(() => {});
    forgetOwner(videoId);
    this.onIdle();
  }

  /** After the connection comes back, a failed upload carries on by itself. */
  retryIfFailed(): void {
    if (this.state === "failed" && this.file) this.start();
  }

  /** Follows processing of an upload that finished before this page opened. */
  followProcessing(): void {
    this.setState("processing");
    this.view.extra();
    this.view.actions([]);
    this.view.setNumbers("", "", "");
    this.view.status("Uploaded. Checking on processing…");
    this.startPolling();
  }

  private setState(state: State): void {
    this.state = state;
    this.view.setState(state);
  }

  private askForFile(): void {
    this.setState("needs-file");
    const input = h("input", { type: "file", accept: "video/*" });
    const id = `resume-${this.session!.videoId}`;
    input.id = id;
    input.addEventListener("change", () => {
      const file = input.files?.[0];
      if (file) void this.offerFile(file);
      input.value = "";
    });
    this.view.extra(
      h("div", { class: "resume-picker" }, h("label", { for: id }, "Resume: choose the same file"), input),
    );
    this.view.status(`Stopped before it finished. Choose ${this.stored!.filename} again to continue.`);
    this.view.actions([{ label: "Cancel", onClick: () => void this.cancel(), danger: true }]);
  }

  private sessionStarted(s: UploadSession): void {
    this.session = { videoId: s.videoId, uploadToken: s.uploadToken };
    this.chunkSize = s.chunkSize;
    this.view.root.dataset.videoId = s.videoId;
    rememberOwner(s.videoId, s.uploadToken);
    if (this.stored || !this.file) return;
    const file = this.file;
    this.persisted = (async () => {
      const rec: StoredUpload = {
        videoId: s.videoId,
        uploadToken: s.uploadToken,
        filename: file.name,
        size: file.size,
        lastModified: file.lastModified,
        firstChunkSha256: await firstChunkSha256(file, s.chunkSize),
        title: this.meta.title,
        chunkSize: s.chunkSize,
        createdAt: Date.now(),
      };
      await saveUpload(rec);
      this.stored = rec;
    })().catch(() => {
      // No IndexedDB (private mode): the upload works, it just can't be resumed after a reload.
    });
  }

  private progressed(p: UploadProgress): void {
    if (this.state !== "uploading") return;
    this.rate.add(p.uploadedBytes);
    const fraction = p.totalBytes ? p.uploadedBytes / p.totalBytes : 0;
    const speed = this.rate.bytesPerSecond();
    const left = this.rate.secondsLeft(p.totalBytes);
    this.view.setFraction(fraction);
    this.view.setNumbers(
      `${formatBytes(p.uploadedBytes)} of ${formatBytes(p.totalBytes)}`,
      speed ? formatSpeed(speed) : "",
      left !== undefined ? formatTimeLeft(left) : "",
    );
    this.view.announceStep("Uploading", fraction);
  }

  private async uploaded(): Promise<void> {
    this.setState("processing");
    this.view.actions([]);
    this.view.setNumbers("", "", "");
    this.view.status("Uploaded. Waiting for processing to start…");
    this.view.resetAnnouncements();
    const { videoId } = this.session!;
    await this.persisted;
    await removeUpload(videoId).catch(() => {});
    this.onIdle();
    this.startPolling();
  }

  private stopped(err: unknown, aborted: boolean): void {
    if (this.cancelled) return;
    // Before the upload exists, a direct link may be refused (used, expired, the file too large): trying again cannot help.
    const linkRefusal = this.direct && !this.session ? directLinkRefusal(err) : undefined;
    if (aborted) {
      this.setState("paused");
      this.view.setNumbers(
        this.view.progress.value ? `${formatPercent(this.view.progress.value)} uploaded` : "",
        "",
        "",
      );
      this.view.status("Paused. The parts already sent are kept on the server.");
      this.view.actions([
        { label: "Resume", onClick: () => this.start(), primary: true },
        { label: "Cancel", onClick: () => void this.cancel(), danger: true },
      ]);
    } else if (linkRefusal && err instanceof ApiError) {
      this.refused = err.code;
      this.setState("failed");
      this.view.status(linkRefusal, true);
      this.view.actions([]);
    } else if (err instanceof ApiError && (err.code === "not_found" || err.code === "upload_closed")) {
      // Expired, aborted or deleted on the server: only a new upload can help.
      this.session = undefined;
      this.stored = undefined;
      this.setState("failed");
      this.view.status(`This upload can no longer be resumed: ${err.message}`, true);
      this.view.actions([{ label: "Start over", onClick: () => this.start(), primary: true }]);
    } else if (err instanceof ApiError && err.code === "not_a_video") {
      // The page leaves such files out by the server's own rule; a server with a stricter one
      // still says why, and resuming could never help.
      this.setState("failed");
      this.view.status(err.message, true);
      this.view.actions([]);
    } else {
      this.setState("failed");
      const reason =
        err instanceof ApiError && err.code === "network_error" ? "the connection was lost." : errorMessage(err);
      this.view.status(`Upload stopped: ${reason} It resumes from where it stopped.`, true);
      this.view.actions([
        { label: "Resume", onClick: () => this.start(), primary: true },
        { label: "Cancel", onClick: () => void this.cancel(), danger: true },
      ]);
    }
    this.onIdle();
  }

  private startPolling(): void {
    this.stopPolling?.();
    this.stopPolling = followProcessing(this.view, this.session!.videoId, this.session!.uploadToken);
  }
}

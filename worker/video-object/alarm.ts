/**
 * When the video's Durable Object needs its alarm next, and for what,
 * decided from its stored state alone. At most one thing waits at a time,
 * because the states that wait exclude each other: a deleted video waits for
 * its final sweep, a direct upload's reservation for its lapse, an upload
 * (or an import) for its expiry, processing for its current
 * job's heartbeat or, with no job running, for a hand-off to be offered
 * again, a ladder encoding in spans for its spans' heartbeats and sends, a finished ladder for its first-playable copy to be deleted and its downloads' package task (whichever is due first), and an aborted or expired upload, or a video whose processing
 * failed, for its objects, row and state to be forgotten.
 *
 * Besides, events the object could not send yet (events.ts) wake it to try again.
 *
 * An alarm that fires before its task is due does nothing but re-arm, so a
 * change that only moves a deadline later (a chunk, a heartbeat) needs no
 * new alarm.
 */
import type { Job, Tombstone, Video } from "./store.ts";

export type AlarmTask =
  | "outbox"
  | "sweep"
  | "lapse"
  | "expire"
  | "watchdog"
  | "spans"
  | "offer-again"
  | "forget"
  | "retire-first-copy"
  | "package";
export type Wake = { task: AlarmTask; at: number };

export type AlarmState = {
  tombstone: Pick<Tombstone, "deletedAt"> | undefined;
  video: Pick<Video, "status" | "expiresAt" | "ladderComplete" | "updatedAt" | "firstCopyRetireAt"> | undefined;
  /** A direct creator upload reserved this video: until it expires, if no video was created with it. */
  reservation?: { expiresAt: number } | undefined;
  activeJob: Pick<Job, "heartbeatAt"> | undefined;
  /** Set while the active job's ladder is encoded in spans: when they next need looking at (spans.ts). */
  spansDueAt?: number;
  lastJob: Pick<Job, "state" | "retryAt"> | undefined;
  /** The downloads' package task of a complete ladder: when it next needs looking at (downloads.ts). */
  packageDueAt?: number | undefined;
  /** A merge is in progress: held in memory, as it ends with the instance. */
  merging: boolean;
  /** Events wait in the outbox (events.ts): when to flush them. */
  outboxDueAt?: number | undefined;
};

/** A deleted video's prefix is swept once more after this, for writes that were in flight. */
export const SWEEP_AFTER_MS = 60_000;
/** An upload due to expire while it is being merged is looked at again this much later. */
export const MERGE_GRACE_MS = 60_000;
/** The watchdog looks this long after the current job would count as silent. */
export const WATCHDOG_SLACK_MS = 1000;

/**
 * How long things wait. `abandonedGraceMs`: an aborted or expired upload is
 * kept (its owner may still ask about it) before its D1 row and the object's
 * storage are deleted, so abandoned uploads do not pile up for ever.
 * `failedRetentionMs`: a video whose processing failed keeps its source that
 * long, for its owner to fetch, and is then deleted with all its objects.
 */
export type Waits = { heartbeatTimeoutMs: number; abandonedGraceMs: number; failedRetentionMs: number };

export function nextWake(state: AlarmState, now: number, waits: Waits): Wake | undefined {
  const wake = stateWake(state, now, waits);
  // Events waiting to leave come first: whatever else is due runs after they are out.
  const outbox = state.outboxDueAt;
  if (outbox !== undefined && (!wake || outbox <= wake.at)) return { task: "outbox", at: outbox };
  return wake;
}

function stateWake(state: AlarmState, now: number, waits: Waits): Wake | undefined {
  const { heartbeatTimeoutMs, abandonedGraceMs, failedRetentionMs } = waits;
  if (state.tombstone) return { task: "sweep", at: state.tombstone.deletedAt + SWEEP_AFTER_MS };
  const video = state.video;
  if (!video && state.reservation) return { task: "lapse", at: state.reservation.expiresAt };
  // An import's deadline moves with every chunk like an upload's; past it, the import has stopped.
  if (video?.status === "uploading" || video?.status === "importing") {
    const at = state.merging ? Math.max(video.expiresAt, now + MERGE_GRACE_MS) : video.expiresAt;
    return { task: "expire", at };
  }
  if (video?.status === "aborted" || video?.status === "expired") {
    return { task: "forget", at: video.updatedAt + abandonedGraceMs };
  }
  if (video?.status === "failed") return { task: "forget", at: video.updatedAt + failedRetentionMs };
  if (video?.status !== "processing" && video?.status !== "ready") return undefined;
  if (state.activeJob) {
    if (state.spansDueAt !== undefined) return { task: "spans", at: state.spansDueAt };
    return { task: "watchdog", at: state.activeJob.heartbeatAt + heartbeatTimeoutMs + WATCHDOG_SLACK_MS };
  }
  if (video.ladderComplete) {
    const due: Wake[] = [];
    if (video.firstCopyRetireAt !== null) due.push({ task: "retire-first-copy", at: video.firstCopyRetireAt });
    if (state.packageDueAt !== undefined) due.push({ task: "package", at: state.packageDueAt });
    return due.sort((a, b) => a.at - b.at)[0];
  }
  const last = state.lastJob;
  if (!last || last.retryAt === null) return undefined;
  if (last.state !== "deferred" && last.state !== "refused") return undefined;
  return { task: "offer-again", at: last.retryAt };
}

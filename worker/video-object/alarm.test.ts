import { describe, expect, it } from "vitest";
import { type AlarmState, MERGE_GRACE_MS, nextWake, SWEEP_AFTER_MS, WATCHDOG_SLACK_MS } from "./alarm.ts";

const NOW = 1_000_000;
const TIMEOUT = 30_000;
const GRACE = 7 * 24 * 3600_000;
const none: AlarmState = {
  tombstone: undefined,
  video: undefined,
  activeJob: undefined,
  lastJob: undefined,
  merging: false,
};
const video = (
  status: "uploading" | "importing" | "processing" | "ready" | "failed" | "aborted" | "expired",
  ladderComplete = false,
) => ({
  status,
  expiresAt: NOW + 5000,
  ladderComplete,
  updatedAt: NOW - 1000,
  firstCopyRetireAt: null,
});
const RETENTION = 3 * 24 * 3600_000;
const wake = (state: Partial<AlarmState>) =>
  nextWake({ ...none, ...state }, NOW, {
    heartbeatTimeoutMs: TIMEOUT,
    abandonedGraceMs: GRACE,
    failedRetentionMs: RETENTION,
  });

describe("nextWake", () => {
  it("needs no alarm for an object with no video", () => {
    expect(wake({})).toBeUndefined();
  });

  it("sweeps a deleted video's prefix a while after the deletion", () => {
    expect(wake({ tombstone: { deletedAt: NOW - 10 } })).toEqual({ task: "sweep", at: NOW - 10 + SWEEP_AFTER_MS });
  });

  it("expires an upload when it has been idle for its TTL, but not while it is being merged", () => {
    expect(wake({ video: video("uploading") })).toEqual({ task: "expire", at: NOW + 5000 });
    expect(wake({ video: { ...video("uploading"), expiresAt: NOW - 1 }, merging: true })).toEqual({
      task: "expire",
      at: NOW + MERGE_GRACE_MS,
    });
  });

  it("forgets a direct upload's reservation when it lapses unused, and keeps one that created its video", () => {
    const reservation = { expiresAt: NOW + 60_000 };
    expect(wake({ reservation })).toEqual({ task: "lapse", at: NOW + 60_000 });
    expect(wake({ reservation, video: video("uploading") })).toEqual({ task: "expire", at: NOW + 5000 });
  });

  it("fails an import that has received nothing for its idle time", () => {
    expect(wake({ video: video("importing") })).toEqual({ task: "expire", at: NOW + 5000 });
  });

  it("watches the current job's heartbeat while processing, and after the video is playable", () => {
    for (const status of ["processing", "ready"] as const) {
      expect(wake({ video: video(status), activeJob: { heartbeatAt: NOW - 100 } })).toEqual({
        task: "watchdog",
        at: NOW - 100 + TIMEOUT + WATCHDOG_SLACK_MS,
      });
    }
  });

  it("offers a deferred or refused hand-off again at its retry time, until processing ends", () => {
    for (const state of ["deferred", "refused"] as const) {
      const lastJob = { state, retryAt: NOW + 3000 };
      expect(wake({ video: video("processing"), lastJob })).toEqual({ task: "offer-again", at: NOW + 3000 });
      expect(wake({ video: video("ready", true), lastJob })).toBeUndefined();
      expect(wake({ video: video("failed"), lastJob })?.task).toBe("forget");
      expect(wake({ video: video("processing"), lastJob: { state, retryAt: null } })).toBeUndefined();
    }
    expect(wake({ video: video("processing"), lastJob: { state: "superseded", retryAt: NOW } })).toBeUndefined();
  });

  it("deletes the first-playable copy when its grace ends, once the ladder is complete", () => {
    const done = { ...video("ready", true), firstCopyRetireAt: NOW + 900_000 };
    expect(wake({ video: done })).toEqual({ task: "retire-first-copy", at: NOW + 900_000 });
    expect(wake({ video: video("ready", true) })).toBeUndefined();
  });

  it("forgets a video whose processing failed, source and all, once its retention has passed", () => {
    expect(wake({ video: video("failed"), activeJob: { heartbeatAt: NOW } })).toEqual({
      task: "forget",
      at: NOW - 1000 + RETENTION,
    });
  });

  it("forgets an aborted or expired upload once its grace has passed since it ended", () => {
    for (const status of ["aborted", "expired"] as const) {
      expect(wake({ video: video(status) })).toEqual({ task: "forget", at: NOW - 1000 + GRACE });
    }
  });
});

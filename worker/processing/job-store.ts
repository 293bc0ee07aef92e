/**
 * The coordinator's processing tables: every transcode job it started, and
 * which job is current and which one's outputs are served. Synchronous, like
 * the upload store, so transitions are check-then-act without interleaving.
 */

/**
 * `refused`: the hand-off failed (transcoder unreachable or erroring);
 * `deferred`: every transcoder was busy, which is not a failure.
 */
export type JobState = "submitted" | "running" | "completed" | "failed" | "superseded" | "refused" | "deferred";
export type Job = {
  jobId: string;
  attempt: number;
  state: JobState;
  createdAt: number;
  heartbeatAt: number;
  progress: number;
};
export type Processing = {
  currentJob: string | null;
  playbackJob: string | null;
  ladderComplete: boolean;
  error: string | null;
};

const SCHEMA = `
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

type JobRow = {
  job_id: string;
  attempt: number;
  state: JobState;
  created_at: number;
  heartbeat_at: number;
  progress: number;
};

export class JobStore {
  private readonly sql: SqlStorage;
  constructor(sql: SqlStorage) {
    this.sql = sql;
    sql.exec(SCHEMA);
  }

  processing(): Processing {
    const r = this.sql
      .exec<{ current_job: string | null; playback_job: string | null; ladder_complete: number; error: string | null }>(
        "SELECT * FROM processing WHERE id = 1",
      )
      .one();
    return {
      currentJob: r.current_job,
      playbackJob: r.playback_job,
      ladderComplete: r.ladder_complete === 1,
      error: r.error,
    };
  }

  job(jobId: string): Job | undefined {
    const r = this.sql.exec<JobRow>("SELECT * FROM jobs WHERE job_id = ?", jobId).toArray()[0];
    return r && toJob(r);
  }

  /** The current job, if it is still submitted or running. */
  activeJob(): Job | undefined {
    const { currentJob } = this.processing();
    const job = currentJob ? this.job(currentJob) : undefined;
    return job && (job.state === "submitted" || job.state === "running") ? job : undefined;
  }

  /** The most recently started job, whatever its state. */
  lastJob(): Job | undefined {
    const r = this.sql.exec<JobRow>("SELECT * FROM jobs ORDER BY created_at DESC, rowid DESC LIMIT 1").toArray()[0];
    return r && toJob(r);
  }

  countInState(state: JobState): number {
    return this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM jobs WHERE state = ?", state).one().n;
  }

  jobIds(): string[] {
    return this.sql
      .exec<{ job_id: string }>("SELECT job_id FROM jobs")
      .toArray()
      .map((r) => r.job_id);
  }

  addJob(jobId: string, attempt: number, now: number): void {
    this.sql.exec(
      "INSERT INTO jobs (job_id, attempt, state, created_at, heartbeat_at) VALUES (?, ?, 'submitted', ?, ?)",
      jobId,
      attempt,
      now,
      now,
    );
    this.sql.exec("UPDATE processing SET current_job = ? WHERE id = 1", jobId);
  }

  setJobState(jobId: string, state: JobState): void {
    this.sql.exec("UPDATE jobs SET state = ? WHERE job_id = ?", state, jobId);
  }

  heartbeat(jobId: string, now: number, progress?: number): void {
    if (progress === undefined) this.sql.exec("UPDATE jobs SET heartbeat_at = ? WHERE job_id = ?", now, jobId);
    else
      this.sql.exec(
        "UPDATE jobs SET heartbeat_at = ?, progress = max(progress, ?) WHERE job_id = ?",
        now,
        progress,
        jobId,
      );
  }

  setPlayback(jobId: string, ladderComplete: boolean): void {
    this.sql.exec(
      "UPDATE processing SET playback_job = ?, ladder_complete = ? WHERE id = 1",
      jobId,
      ladderComplete ? 1 : 0,
    );
  }

  clear(): void {
    this.sql.exec("DELETE FROM jobs");
    this.sql.exec(
      "UPDATE processing SET current_job = NULL, playback_job = NULL, ladder_complete = 0, error = NULL WHERE id = 1",
    );
  }

  setError(error: string | null): void {
    this.sql.exec("UPDATE processing SET error = ? WHERE id = 1", error);
  }
}

function toJob(r: JobRow): Job {
  return {
    jobId: r.job_id,
    attempt: r.attempt,
    state: r.state,
    createdAt: r.created_at,
    heartbeatAt: r.heartbeat_at,
    progress: r.progress,
  };
}

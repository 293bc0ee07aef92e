/**
 * `SpanScheduler`: one Durable Object for the whole deployment that hands
 * out the transcoder slots spans run in (`TRANSCODER_SLOTS`: the containers'
 * `max_instances` less what first tasks need, or the local transcoder's
 * slots). Videos' objects put their spans here when they are ready to run;
 * each free slot goes to the next video in turn (fair-share.ts), which is
 * passed over while it holds its share (`SPAN_SHARE_PERCENT`) and another
 * waits, and the span's queue message goes out. So the number of running
 * instances follows the queue up to the slots, and a long video cannot keep
 * a short one waiting for its whole ladder.
 *
 * A slot is held on a lease the span's progress renews: a video's object
 * that never says its span ended (evicted mid-update) loses the slot when
 * the lease runs out, at the alarm. First tasks do not come here: what makes
 * a video playable never queues behind another's ladder.
 *
 * Its storage is created here and has only ever had this schema: a change
 * to it needs a numbered migration, as the video's object has.
 */
import { DurableObject } from "cloudflare:workers";
import { readConfig } from "../config.ts";
import { queueSpan, type SpanRef } from "../video-object/transcode-queue.ts";
import { nextVideo, shareOf } from "./fair-share.ts";

type Task = { video_id: string; job_id: string; n: number; attempt: number; state: "waiting" | "running" };

/** A span handed a slot: its video, and the try its queue message starts. */
export type Grant = SpanRef & { videoId: string };

export class SpanScheduler extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const sql = ctx.storage.sql;
    sql.exec(`CREATE TABLE IF NOT EXISTS tasks (
      video_id TEXT NOT NULL,
      job_id TEXT NOT NULL,
      n INTEGER NOT NULL,
      attempt INTEGER NOT NULL,
      state TEXT NOT NULL,
      since INTEGER NOT NULL,
      lease_until INTEGER,
      PRIMARY KEY (video_id, job_id, n)
    )`);
    sql.exec("CREATE TABLE IF NOT EXISTS turn (id INTEGER PRIMARY KEY CHECK (id = 1), last_video TEXT)");
  }

  /**
   * Spans of a video ready to run, new or to be tried again: they wait for a
   * slot. A span already holding one for the same try had its queue message
   * lost (its object asks again only after a long wait): the message goes again.
   */
  async enqueue(videoId: string, spans: SpanRef[]): Promise<Grant[]> {
    const now = Date.now();
    const resend: Grant[] = [];
    for (const s of spans) {
      const held = this.task(videoId, s.jobId, s.index);
      if (held?.state === "running" && held.attempt === s.attempt) {
        this.sql("UPDATE tasks SET lease_until = ? WHERE video_id = ? AND job_id = ? AND n = ?", [
          now + this.leaseMs,
          videoId,
          s.jobId,
          s.index,
        ]);
        resend.push({ videoId, ...s });
        continue;
      }
      this.sql(
        `INSERT INTO tasks (video_id, job_id, n, attempt, state, since) VALUES (?, ?, ?, ?, 'waiting', ?)
         ON CONFLICT (video_id, job_id, n) DO UPDATE SET attempt = excluded.attempt, state = 'waiting', since = excluded.since, lease_until = NULL`,
        [videoId, s.jobId, s.index, s.attempt, now],
      );
    }
    return [...(await this.send(resend)), ...(await this.pump())];
  }

  /** A span's try ended (done, failed, silent, refused): its slot goes to the next in turn. */
  async release(videoId: string, span: Pick<SpanRef, "jobId" | "index">): Promise<Grant[]> {
    this.sql("DELETE FROM tasks WHERE video_id = ? AND job_id = ? AND n = ?", [videoId, span.jobId, span.index]);
    return this.pump();
  }

  /** Everything of a video: its ladder is done, it failed, or it was deleted. */
  async forget(videoId: string): Promise<Grant[]> {
    this.sql("DELETE FROM tasks WHERE video_id = ?", [videoId]);
    return this.pump();
  }

  /** A running span's try made progress: it keeps its slot another lease. */
  async renew(videoId: string, span: Pick<SpanRef, "jobId" | "index">): Promise<void> {
    this.sql("UPDATE tasks SET lease_until = ? WHERE video_id = ? AND job_id = ? AND n = ? AND state = 'running'", [
      Date.now() + this.leaseMs,
      videoId,
      span.jobId,
      span.index,
    ]);
  }

  /** Slots whose lease ran out are free again. */
  override async alarm(): Promise<void> {
    this.sql("DELETE FROM tasks WHERE state = 'running' AND lease_until < ?", [Date.now()]);
    await this.pump();
  }

  /**
   * Gives free slots to waiting spans, video by video in turn, then sends
   * their queue messages. Every slot is taken before any message is sent:
   * calls interleave across the sends, and each must see the slots as they are.
   */
  private async pump(): Promise<Grant[]> {
    const config = readConfig(this.env);
    const share = shareOf(config.transcoderSlots, config.spanSharePercent);
    const granted: Grant[] = [];
    const now = Date.now();
    for (;;) {
      const tasks = this.sql<Task>("SELECT video_id, job_id, n, attempt, state FROM tasks", []);
      const running = new Map<string, number>();
      for (const t of tasks) if (t.state === "running") running.set(t.video_id, (running.get(t.video_id) ?? 0) + 1);
      const busy = [...running.values()].reduce((a, b) => a + b, 0);
      if (busy >= config.transcoderSlots) break;
      const waiting = tasks.filter((t) => t.state === "waiting");
      const last = this.sql<{ last_video: string | null }>("SELECT last_video FROM turn", [])[0]?.last_video ?? null;
      const video = nextVideo(
        waiting.map((t) => t.video_id),
        running,
        last,
        share,
      );
      if (video === undefined) break;
      const [task] = this.sql<Task>(
        "SELECT video_id, job_id, n, attempt, state FROM tasks WHERE video_id = ? AND state = 'waiting' ORDER BY since, job_id, n LIMIT 1",
        [video],
      );
      this.sql("UPDATE tasks SET state = 'running', lease_until = ? WHERE video_id = ? AND job_id = ? AND n = ?", [
        now + this.leaseMs,
        video,
        task.job_id,
        task.n,
      ]);
      this.sql(
        "INSERT INTO turn (id, last_video) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET last_video = excluded.last_video",
        [video],
      );
      granted.push({ videoId: video, jobId: task.job_id, index: task.n, attempt: task.attempt });
    }
    await this.armLeases();
    return this.send(granted);
  }

  private async send(grants: Grant[]): Promise<Grant[]> {
    for (const { videoId, ...span } of grants) await queueSpan(this.env, videoId, span);
    return grants;
  }

  /** The alarm wakes at the first lease to run out. */
  private async armLeases(): Promise<void> {
    const [next] = this.sql<{ at: number | null }>(
      "SELECT min(lease_until) AS at FROM tasks WHERE state = 'running'",
      [],
    );
    if (next?.at) await this.ctx.storage.setAlarm(next.at);
    else await this.ctx.storage.deleteAlarm();
  }

  private task(videoId: string, jobId: string, n: number): Task | undefined {
    return this.sql<Task>(
      "SELECT video_id, job_id, n, attempt, state FROM tasks WHERE video_id = ? AND job_id = ? AND n = ?",
      [videoId, jobId, n],
    )[0];
  }

  private sql<T = Record<string, SqlStorageValue>>(query: string, bindings: SqlStorageValue[]): T[] {
    return this.ctx.storage.sql.exec(query, ...bindings).toArray() as T[];
  }

  /** How long a slot is held without news: two heartbeat timeouts. */
  private get leaseMs(): number {
    return 2 * readConfig(this.env).jobHeartbeatTimeoutMs;
  }
}

/** The scheduler: one for the deployment. */
export const spanScheduler = (env: Env) => env.SPAN_SCHEDULER.getByName("spans");

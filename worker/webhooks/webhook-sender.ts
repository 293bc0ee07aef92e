/**
 * `WebhookSender`: one Durable Object per webhook subscription, which
 * delivers the events the events queue hands it (fan-out.ts). Each
 * subscription has its own, so a slow or dead endpoint delays only itself,
 * and nothing that changes a video ever waits for a delivery.
 *
 * Events of one video go out in the order of their `sequence`, whatever
 * order the queue brings them in: only a video's next event is tried, and
 * the one after waits until it is delivered (or given up on). The sender is
 * handed every event of a video, the ones its subscription does not want
 * too (they are passed over without a request), so a gap in the sequence
 * means an event still on its way: it is waited for `GAP_WAIT_MS`, then
 * taken as lost. Different videos' events go out side by side. A try that gets no
 * 2xx within `DELIVERY_TIMEOUT_MS` is tried again with exponential backoff,
 * for at least `GIVE_UP_AFTER_MS` (24 h); every try is recorded in D1
 * (`GET /api/webhooks/:id/deliveries`). A subscription whose every try has
 * failed for `WEBHOOK_DISABLE_AFTER_SECONDS` is disabled with its reason.
 *
 * Its storage is created here and has only ever had this schema: a change
 * to it needs a numbered migration, as the video's object has.
 */
import { DurableObject } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { readConfig } from "../config.ts";
import type { VideoEvent } from "../contracts/events.ts";
import { webhookDeliveries, webhooks } from "../db/schema.ts";
import { database } from "../db/videos.ts";
import { signedHeaders } from "./signing.ts";

export const DELIVERY_TIMEOUT_MS = 10_000;
/** An event undelivered this long after its first try is given up on. */
export const GIVE_UP_AFTER_MS = 26 * 3600_000;
/** Tries of one event wait 5 s, 10 s, 20 s, … up to an hour apart. */
export const retryDelayMs = (attempts: number) => Math.min(3600_000, 5000 * 2 ** Math.max(0, attempts - 1));
/** Videos whose next event is tried at once. */
const PARALLEL = 8;
/** How long a video's next event waits for one before it, still on its way, to arrive. */
export const GAP_WAIT_MS = 10_000;
/** Rounds of one alarm: a video whose event was delivered may go on with its next at once. */
const ROUNDS = 20;

type Pending = {
  seq: number;
  event_id: string;
  video_key: string;
  sequence: number;
  /** 0: the subscription does not want its type; it is passed over in its turn. */
  wanted: number;
  body: string;
  attempts: number;
  first_try_at: number | null;
  next_at: number;
  received_at: number;
};

export class WebhookSender extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.createTables();
  }

  /** Its tables; again after `deleteAll` wipes them, as the same instance may be handed events next. */
  private createTables(): void {
    this.sql.exec(`CREATE TABLE IF NOT EXISTS pending (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      event_id TEXT NOT NULL UNIQUE,
      video_key TEXT NOT NULL,
      sequence INTEGER NOT NULL,
      wanted INTEGER NOT NULL,
      body TEXT NOT NULL,
      attempts INTEGER NOT NULL DEFAULT 0,
      first_try_at INTEGER,
      next_at INTEGER NOT NULL,
      received_at INTEGER NOT NULL
    );
    CREATE TABLE IF NOT EXISTS lanes (video_key TEXT PRIMARY KEY, last_sequence INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS meta (id INTEGER PRIMARY KEY CHECK (id = 1), webhook_id TEXT NOT NULL);`);
  }

  /**
   * Takes an event to deliver, or (`wanted` false) to pass over in its turn,
   * and wakes to send it. An event handed again, or one its video's lane is
   * already past, is kept no more than once.
   */
  async enqueue(webhookId: string, event: VideoEvent, wanted = true): Promise<void> {
    const now = Date.now();
    const lane = event.videoId ?? "";
    this.sql.exec("INSERT OR IGNORE INTO meta (id, webhook_id) VALUES (1, ?)", webhookId);
    if (lane !== "" && event.sequence <= this.lastSequence(lane)) return;
    this.sql.exec(
      `INSERT OR IGNORE INTO pending (event_id, video_key, sequence, wanted, body, next_at, received_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
      event.id,
      lane,
      event.sequence,
      wanted ? 1 : 0,
      JSON.stringify(event),
      now,
      now,
    );
    const alarm = await this.ctx.storage.getAlarm();
    if (alarm === null || alarm > now) await this.ctx.storage.setAlarm(now);
  }

  /** The subscription was deleted: nothing more is sent. */
  async forget(): Promise<void> {
    await this.wipe();
  }

  private async wipe(): Promise<void> {
    await this.ctx.storage.deleteAll();
    this.createTables();
  }

  override async alarm(): Promise<void> {
    const webhookId = this.sql.exec<{ webhook_id: string }>("SELECT webhook_id FROM meta").toArray()[0]?.webhook_id;
    const db = database(this.env.DB);
    const subscription = webhookId
      ? await db.select().from(webhooks).where(eq(webhooks.id, webhookId)).get()
      : undefined;
    if (!subscription?.enabled) {
      // Deleted or disabled: what waited is dropped (a disabled one is enabled again for new events).
      await this.wipe();
      return;
    }
    for (let round = 0; round < ROUNDS; round++) {
      const now = Date.now();
      const due = this.heads().filter((p) => this.dueAt(p) <= now);
      if (due.length === 0) break;
      for (const p of due.filter((p) => !p.wanted)) this.handedOn(p);
      const wanted = due.filter((p) => p.wanted);
      for (let i = 0; i < wanted.length; i += PARALLEL) {
        await Promise.all(wanted.slice(i, i + PARALLEL).map((p) => this.deliver(subscription, p)));
      }
      if (!subscription.enabled) return this.wipe();
    }
    const next = this.heads().reduce<number | undefined>(
      (at, p) => (at === undefined ? this.dueAt(p) : Math.min(at, this.dueAt(p))),
      undefined,
    );
    if (next !== undefined) await this.ctx.storage.setAlarm(Math.max(next, Date.now()));
  }

  /** The next event of each video, by sequence (test events, of no video, in the order they came). */
  private heads(): Pending[] {
    return this.sql
      .exec<Pending>(
        `SELECT p.* FROM pending p WHERE NOT EXISTS (
           SELECT 1 FROM pending q WHERE q.video_key = p.video_key
             AND (q.sequence < p.sequence OR (q.sequence = p.sequence AND q.seq < p.seq)))`,
      )
      .toArray();
  }

  /**
   * When a video's next event may be tried: at its retry time, once the one
   * before it has been handed on, or `GAP_WAIT_MS` after it arrived, if that
   * one never came.
   */
  private dueAt(p: Pending): number {
    const last = p.video_key === "" ? undefined : this.lastSequence(p.video_key);
    const inTurn = last === undefined || p.sequence === last + 1;
    return inTurn ? p.next_at : Math.max(p.next_at, p.received_at + GAP_WAIT_MS);
  }

  /** The last sequence of the video handed on (delivered, passed over, given up on); 0 for none. */
  private lastSequence(lane: string): number {
    return (
      this.sql.exec<{ last_sequence: number }>("SELECT last_sequence FROM lanes WHERE video_key = ?", lane).toArray()[0]
        ?.last_sequence ?? 0
    );
  }

  /** The event is done with, delivered or not: its video's next may go. */
  private handedOn(p: Pending): void {
    this.sql.exec("DELETE FROM pending WHERE seq = ?", p.seq);
    if (p.video_key === "") return;
    this.sql.exec(
      `INSERT INTO lanes (video_key, last_sequence) VALUES (?, ?)
       ON CONFLICT (video_key) DO UPDATE SET last_sequence = max(last_sequence, excluded.last_sequence)`,
      p.video_key,
      p.sequence,
    );
  }

  private async deliver(subscription: typeof webhooks.$inferSelect, pending: Pending): Promise<void> {
    const event = JSON.parse(pending.body) as VideoEvent;
    const attempt = pending.attempts + 1;
    const started = Date.now();
    let statusCode: number | null = null;
    let error: string | null = null;
    try {
      const res = await fetch(subscription.url, {
        method: "POST",
        headers: await signedHeaders(subscription.secret, event.id, pending.body, started),
        body: pending.body,
        redirect: "manual",
        signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
      });
      statusCode = res.status;
      await res.body?.cancel();
      if (res.status < 200 || res.status >= 300) error = `answered HTTP ${res.status}`;
    } catch (err) {
      error =
        err instanceof Error && err.name === "TimeoutError"
          ? `no answer within ${DELIVERY_TIMEOUT_MS} ms`
          : String(err);
    }
    const now = Date.now();
    const db = database(this.env.DB);
    await db.insert(webhookDeliveries).values({
      webhookId: subscription.id,
      eventId: event.id,
      eventType: event.type,
      attempt,
      statusCode,
      latencyMs: now - started,
      error,
      attemptedAt: started,
    });
    if (error === null) {
      this.handedOn(pending);
      if (subscription.failingSince !== null) {
        // Also for the tries of this same alarm still under way: a failure among them starts afresh.
        subscription.failingSince = null;
        await db.update(webhooks).set({ failingSince: null }).where(eq(webhooks.id, subscription.id));
      }
      return;
    }
    const firstTry = pending.first_try_at ?? started;
    if (now - firstTry >= GIVE_UP_AFTER_MS) {
      // Given up on after its day of tries: its video's later events go on.
      this.handedOn(pending);
    } else {
      this.sql.exec(
        "UPDATE pending SET attempts = ?, first_try_at = ?, next_at = ? WHERE seq = ?",
        attempt,
        firstTry,
        now + retryDelayMs(attempt),
        pending.seq,
      );
    }
    await this.failing(subscription, now, error);
  }

  /** Notes that the subscription is failing; past `WEBHOOK_DISABLE_AFTER_SECONDS` of nothing but failures, disables it. */
  private async failing(subscription: typeof webhooks.$inferSelect, now: number, error: string): Promise<void> {
    const db = database(this.env.DB);
    const since = subscription.failingSince ?? now;
    if (subscription.failingSince === null) {
      subscription.failingSince = now;
      await db.update(webhooks).set({ failingSince: now }).where(eq(webhooks.id, subscription.id));
    }
    if (now - since >= readConfig(this.env).webhookDisableAfterMs && subscription.enabled) {
      subscription.enabled = false;
      const days = ((now - since) / 86_400_000).toFixed(1);
      await db
        .update(webhooks)
        .set({ enabled: false, disabledReason: `Every delivery failed for ${days} days; the last: ${error}.` })
        .where(eq(webhooks.id, subscription.id));
    }
  }
}

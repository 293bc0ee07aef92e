/**
 * The video's events, the part of its Durable Object that tells the world
 * what changed. The object is the video's single owner, so its events are in
 * order and never contradict its state: each is numbered (`sequence`) and
 * written to the object's outbox right after the change it reports, then
 * flushed, in order, into D1's `events` (for `GET /api/events`; the event's
 * id is unique there, so a flush repeated after a failure writes nothing
 * twice) and onto the events queue, whose consumer hands it to each webhook
 * subscription (worker/webhooks/). A flush that fails is tried again by the
 * alarm; nothing that changes the video waits for webhooks.
 *
 * Events that happen once per video (the upload completed, the 720p
 * rendition ready) carry a key, so a retried callback, a repeated completion
 * or a second job cannot emit them again.
 */
import type { EventType, VideoEvent } from "../contracts/events.ts";
import { database, getVideo } from "../db/videos.ts";
import { events as eventsTable } from "../db/schema.ts";
import { describeVideo } from "../videos/describe.ts";
import type { VideoStore } from "./store.ts";

/** A flush that failed is tried again this much later. */
export const OUTBOX_RETRY_MS = 5_000;
const FLUSH_BATCH = 50;

export type Emission = {
  videoId: string;
  type: EventType;
  data?: Record<string, unknown>;
  /** For an event that happens once per video: its key. */
  once?: string;
  /** The video is gone (`video.deleted`): no public fields to show. */
  gone?: boolean;
};

export class Events {
  private readonly store: VideoStore;
  private readonly env: Env;
  /** Emissions run one after another, in the order the changes happened. */
  private tail: Promise<void> = Promise.resolve();
  private flushing: Promise<boolean> | null = null;

  constructor(store: VideoStore, env: Env) {
    this.store = store;
    this.env = env;
  }

  /** Records an event for a change that just happened; it leaves with the next flush. */
  emit(emission: Emission): Promise<void> {
    const next = this.tail.then(() => this.record(emission));
    this.tail = next.catch(() => {});
    return next;
  }

  private async record({ videoId, type, data = {}, once, gone }: Emission): Promise<void> {
    // The video's public fields as they are now; read before the event is numbered, so the
    // numbering and the fields agree on what came first.
    const row = gone ? undefined : await getVideo(this.env.DB, videoId).catch(() => undefined);
    // Deleted meanwhile: a change that raced the deletion is not told after it; `video.deleted` is the last word.
    if (!gone && this.store.tombstone()) return;
    if (once !== undefined && !this.store.markEmitted(once)) return;
    const now = Date.now();
    this.store.addToOutbox((sequence) => {
      const id = `evt_${crypto.randomUUID().replaceAll("-", "")}`;
      const event: VideoEvent = {
        id,
        type,
        timestamp: new Date(now).toISOString(),
        videoId,
        sequence,
        data,
        // The object's own status is the truth; D1's copy may not have caught up yet (a hand-over in progress).
        video: row ? describeVideo({ ...row, status: this.store.video()?.status ?? row.status }) : null,
      };
      return { id, body: JSON.stringify(event) };
    }, now);
  }

  /** When the outbox next needs a flush, if it holds anything. */
  dueAt(): number | undefined {
    return this.store.outboxDueAt();
  }

  /**
   * Sends what the outbox holds, oldest first; true once it is empty. One
   * flush runs at a time, so events leave in their order.
   */
  async flush(): Promise<boolean> {
    await this.tail;
    // A flush already under way may have read the outbox before this caller's events were in
    // it: once it is over, go again for what it left.
    while (this.store.outbox(1).length > 0) {
      if (!this.flushing) {
        this.flushing = this.send().finally(() => {
          this.flushing = null;
        });
      }
      if (!(await this.flushing)) return false;
    }
    return true;
  }

  private async send(): Promise<boolean> {
    try {
      for (let batch = this.store.outbox(FLUSH_BATCH); batch.length > 0; batch = this.store.outbox(FLUSH_BATCH)) {
        const db = database(this.env.DB);
        const rows = batch.map((e) => {
          const event = JSON.parse(e.body) as VideoEvent;
          return {
            id: e.id,
            type: event.type,
            videoId: event.videoId,
            sequence: e.sequence,
            createdAt: e.createdAt,
            body: e.body,
          };
        });
        const [first, ...rest] = rows.map((row) => db.insert(eventsTable).values(row).onConflictDoNothing());
        await db.batch([first!, ...rest]);
        await this.env.EVENTS_QUEUE.sendBatch(batch.map((e) => ({ body: { event: JSON.parse(e.body) } })));
        this.store.dropFromOutbox(batch.at(-1)!.sequence);
      }
      return true;
    } catch (err) {
      console.error("events could not be flushed; the alarm tries again", err);
      this.store.retryOutboxAt(Date.now() + OUTBOX_RETRY_MS);
      return false;
    }
  }
}

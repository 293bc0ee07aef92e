/**
 * The events queue's consumer (`reelay-events`): hands each event to the
 * sender of every enabled subscription that wants its type (webhook-sender.ts),
 * which delivers it on its own time. Handing over only stores the event, so
 * one slow endpoint delays nothing here. Also deletes events, and the
 * record of deliveries, past their retention (`EVENT_RETENTION_DAYS`), a few
 * hundred at a time.
 */
import { eq, inArray, lt } from "drizzle-orm";
import { z } from "zod";
import { readConfig } from "../config.ts";
import { EventSchema, type VideoEvent } from "../contracts/events.ts";
import { events, webhookDeliveries, webhooks } from "../db/schema.ts";
import { database } from "../db/videos.ts";
import { backoffSeconds } from "../video-object/transcode-queue.ts";

const EventMessageSchema = z.object({ event: EventSchema });

type Subscription = { id: string; eventTypes: string[] | null };

export async function consumeEvents(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const db = database(env.DB);
  let subscriptions: Subscription[];
  try {
    subscriptions = await db
      .select({ id: webhooks.id, eventTypes: webhooks.eventTypes })
      .from(webhooks)
      .where(eq(webhooks.enabled, true));
  } catch (err) {
    console.error("webhook subscriptions could not be read; the batch is retried", err);
    batch.retryAll({ delaySeconds: backoffSeconds(1) });
    return;
  }
  // A video's events are handed out one after another, in the batch's order, so that its
  // subscriptions' senders take them in order (calls side by side may arrive in any order);
  // once one fails, the video's later events go back to the queue with it.
  const lanes = new Map<string, { msg: Message<unknown>; event: VideoEvent }[]>();
  for (const msg of batch.messages) {
    const parsed = EventMessageSchema.safeParse(msg.body);
    if (!parsed.success) {
      console.error("dropping a malformed event message", parsed.error.issues);
      msg.ack();
      continue;
    }
    const lane = parsed.data.event.videoId ?? "";
    lanes.set(lane, [...(lanes.get(lane) ?? []), { msg, event: parsed.data.event }]);
  }
  await Promise.all(
    [...lanes.values()].map(async (lane) => {
      for (const [i, { msg, event }] of lane.entries()) {
        try {
          await handOut(env, subscriptions, event);
          msg.ack();
        } catch (err) {
          console.error(`event ${event.id} could not be handed to every subscription`, err);
          const delaySeconds = backoffSeconds(msg.attempts);
          for (const later of lane.slice(i)) later.msg.retry({ delaySeconds });
          return;
        }
      }
    }),
  );
  await forgetOldEvents(env).catch((err: unknown) => console.error("old events could not be deleted", err));
}

/**
 * Every subscription's sender gets the event, marked wanted or not by its
 * types: one that does not want it passes it over in its turn, so a gap in a
 * video's sequence always means an event still on its way. A sender that
 * already has it keeps it once.
 */
export async function handOut(env: Env, subscriptions: Subscription[], event: VideoEvent): Promise<void> {
  await Promise.all(
    subscriptions.map((s) =>
      env.WEBHOOK_SENDERS.getByName(s.id).enqueue(
        s.id,
        event,
        s.eventTypes === null || s.eventTypes.includes(event.type),
      ),
    ),
  );
}

/**
 * By age alone: an event flushed late (its outbox retried) sits after newer
 * ones in `seq`, so "every seq up to the oldest's" would take newer events with it.
 */
async function forgetOldEvents(env: Env): Promise<void> {
  const cutoff = Date.now() - readConfig(env).eventRetentionMs;
  const db = database(env.DB);
  const old = db.select({ seq: events.seq }).from(events).where(lt(events.createdAt, cutoff)).limit(500);
  await db.delete(events).where(inArray(events.seq, old));
  // The record of tries goes with them: up to ~35 per event and subscription, it would otherwise grow for ever.
  const tried = db
    .select({ seq: webhookDeliveries.seq })
    .from(webhookDeliveries)
    .where(lt(webhookDeliveries.attemptedAt, cutoff))
    .limit(500);
  await db.delete(webhookDeliveries).where(inArray(webhookDeliveries.seq, tried));
}

/**
 * Events and webhooks (issue 13): every state change of a video is an event,
 * emitted by its Durable Object, kept in D1 for `GET /api/events`, and
 * delivered to webhook subscriptions by the Standard Webhooks specification
 * (https://www.standardwebhooks.com).
 */
import { z } from "zod";
import { decimalInt } from "./decimal-int.ts";
import { VideoSchema } from "./video.ts";

export const VIDEO_EVENT_TYPES = [
  "video.upload.created",
  "video.upload.completed",
  "video.upload.aborted",
  "video.upload.expired",
  "video.processing.started",
  "video.playable",
  "video.rendition.ready",
  "video.ready",
  "video.failed",
  "video.updated",
  "video.deleted",
  "video.downloads.ready",
  "video.downloads.failed",
] as const;
export type VideoEventType = (typeof VIDEO_EVENT_TYPES)[number];

/** What a subscription may ask for: every video event, and the test a subscription's owner sends itself. */
export const EVENT_TYPES = [...VIDEO_EVENT_TYPES, "webhook.test"] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/**
 * One event. `video` is the video's public fields at that moment (as
 * `GET /api/videos/:id` answered then); null once the video is deleted.
 */
export const EventSchema = z.object({
  /** `evt_…`, unique; a webhook delivery's `webhook-id`. */
  id: z.string(),
  type: z.enum(EVENT_TYPES),
  /** ISO 8601. */
  timestamp: z.string(),
  videoId: z.string().nullable(),
  /** Of its video's events, the how-manyeth (from 1): consumers may order by it. */
  sequence: z.number().int().nonnegative(),
  /**
   * `video.rendition.ready`: the rung's name; `video.failed` and
   * `video.downloads.failed`: `reason`; `video.downloads.ready`: the bytes of
   * `download` and `audio` (null without audio).
   */
  data: z.record(z.string(), z.unknown()),
  video: VideoSchema.nullable(),
});
export type VideoEvent = z.infer<typeof EventSchema>;

/** The query of `GET /api/events`. */
export const EventQuerySchema = z.object({
  after: z.string().max(64).optional(),
  limit: decimalInt(1, 1000).default(100),
  type: z.enum(EVENT_TYPES).optional(),
  videoId: z.string().max(64).optional(),
});

/** `GET /api/events`: oldest first. */
export const EventPageSchema = z.object({
  items: z.array(EventSchema),
  /** Pass as `after` for what came since: the cursor after the last item, or the one given when there was none. */
  nextCursor: z.string(),
});
export type EventPage = z.infer<typeof EventPageSchema>;

/** `POST /api/webhooks`. */
export const CreateWebhookSchema = z.object({
  url: z.url({ protocol: /^https?$/ }).max(2048),
  /** The event types it wants; every one when absent. */
  eventTypes: z.array(z.enum(EVENT_TYPES)).min(1).optional(),
  description: z.string().max(500).optional(),
});

/** `PATCH /api/webhooks/:id`: enabling again clears why it was disabled. */
export const UpdateWebhookSchema = z
  .object({
    url: z
      .url({ protocol: /^https?$/ })
      .max(2048)
      .optional(),
    eventTypes: z.array(z.enum(EVENT_TYPES)).min(1).nullable().optional(),
    description: z.string().max(500).optional(),
    enabled: z.boolean().optional(),
  })
  .refine((o) => Object.values(o).some((v) => v !== undefined), "nothing to change");

export const WebhookSchema = z.object({
  id: z.string(),
  url: z.string(),
  /** Null: every event type. */
  eventTypes: z.array(z.enum(EVENT_TYPES)).nullable(),
  description: z.string(),
  enabled: z.boolean(),
  /** Why it was disabled (deliveries failing for days), while it is. */
  disabledReason: z.string().nullable(),
  /** ISO 8601. */
  createdAt: z.string(),
});
export type Webhook = z.infer<typeof WebhookSchema>;

/** `201` to `POST /api/webhooks`: the only time the signing secret is shown. */
export const WebhookCreatedSchema = WebhookSchema.extend({
  /** `whsec_` + base64: verify deliveries with it (Standard Webhooks). */
  secret: z.string(),
});

export const WebhookListSchema = z.object({ items: z.array(WebhookSchema) });

/** One try to deliver one event to one subscription. */
export const DeliverySchema = z.object({
  eventId: z.string(),
  eventType: z.enum(EVENT_TYPES),
  attempt: z.number().int().positive(),
  /** The answer's status; null when there was none (network error, timeout). */
  statusCode: z.number().int().nullable(),
  latencyMs: z.number().int().nonnegative(),
  error: z.string().nullable(),
  /** ISO 8601. */
  attemptedAt: z.string(),
});
export type Delivery = z.infer<typeof DeliverySchema>;

export const DeliveryQuerySchema = z.object({
  limit: decimalInt(1, 1000).default(100),
  before: z.string().max(64).optional(),
});

/** `GET /api/webhooks/:id/deliveries`: newest first. */
export const DeliveryPageSchema = z.object({ items: z.array(DeliverySchema), nextCursor: z.string().nullable() });

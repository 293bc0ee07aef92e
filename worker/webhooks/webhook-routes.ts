/**
 * `/api/webhooks` (administrator): subscriptions, each a URL, the event
 * types it wants and a signing secret shown once; `POST /:id/test` sends it
 * a `webhook.test` event, and `GET /:id/deliveries` lists every try, newest
 * first. Deliveries themselves are the subscription's sender's
 * (webhook-sender.ts).
 */
import { and, desc, eq, lt, type SQL } from "drizzle-orm";
import { Hono } from "hono";
import { type DescribeRouteOptions, describeRoute } from "hono-openapi";
import { z } from "zod";
import {
  CreateWebhookSchema,
  DeliveryPageSchema,
  DeliveryQuerySchema,
  type EventType,
  UpdateWebhookSchema,
  type VideoEvent,
  type Webhook,
  WebhookCreatedSchema,
  WebhookListSchema,
  WebhookSchema,
} from "../contracts/events.ts";
import { webhookDeliveries, webhooks } from "../db/schema.ts";
import { database } from "../db/videos.ts";
import { administrator } from "../http/auth.ts";
import { apiError } from "../http/errors.ts";
import { validJson, validParams, validQuery } from "../http/validate.ts";
import {
  credentials,
  emptyResponse,
  errorResponses,
  JSON_BODY_ERRORS,
  jsonResponse,
  TOKEN_ERRORS,
} from "../openapi/docs.ts";
import { newWebhookSecret } from "./signing.ts";

/** The docs of a webhook route: the administrator's, with its answers. */
const docs = (
  operationId: string,
  summary: string,
  responses: NonNullable<DescribeRouteOptions["responses"]>,
  description?: string,
) =>
  describeRoute({
    tags: ["webhooks"],
    operationId,
    summary,
    ...(description ? { description } : {}),
    security: credentials.administrator,
    responses: { ...responses, ...errorResponses(...TOKEN_ERRORS) },
  });

export const webhookRoutes = new Hono<{ Bindings: Env }>();
webhookRoutes.use("*", administrator);

const noSuchWebhook = () => apiError("not_found", "No such webhook.");
const webhookParam = validParams(z.object({ id: z.string().regex(/^wh_[0-9a-f]{32}$/) }), noSuchWebhook);

webhookRoutes.post(
  "/",
  docs(
    "createWebhook",
    "Subscribe a URL to events",
    {
      201: jsonResponse(WebhookCreatedSchema, "The subscription, with its signing secret (shown only now)."),
      ...errorResponses(...JSON_BODY_ERRORS),
    },
    "Deliveries follow Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256>`.",
  ),
  validJson(CreateWebhookSchema),
  async (c) => {
    const body = c.req.valid("json");
    const row = {
      id: `wh_${crypto.randomUUID().replaceAll("-", "")}`,
      url: body.url,
      eventTypes: body.eventTypes ?? null,
      description: body.description ?? "",
      secret: newWebhookSecret(),
      enabled: true,
      disabledReason: null,
      failingSince: null,
      createdAt: Date.now(),
    };
    await database(c.env.DB).insert(webhooks).values(row);
    return c.json({ ...describeWebhook(row), secret: row.secret }, 201, { Location: `/api/webhooks/${row.id}` });
  },
);

webhookRoutes.get(
  "/",
  docs("listWebhooks", "Webhook subscriptions", {
    200: jsonResponse(WebhookListSchema, "Every subscription, newest first."),
  }),
  async (c) => {
    const rows = await database(c.env.DB).select().from(webhooks).orderBy(desc(webhooks.createdAt));
    return c.json({ items: rows.map(describeWebhook) });
  },
);

webhookRoutes.get(
  "/:id",
  docs("getWebhook", "A webhook subscription", {
    200: jsonResponse(WebhookSchema, "The subscription."),
    ...errorResponses("not_found"),
  }),
  webhookParam,
  async (c) => {
    return c.json(describeWebhook(await find(c.env, c.req.valid("param").id)));
  },
);

webhookRoutes.patch(
  "/:id",
  docs(
    "updateWebhook",
    "Change a webhook subscription",
    {
      200: jsonResponse(WebhookSchema, "The subscription as it now is."),
      ...errorResponses("not_found", ...JSON_BODY_ERRORS),
    },
    "Enabling a disabled subscription again clears why it was disabled.",
  ),
  webhookParam,
  validJson(UpdateWebhookSchema),
  async (c) => {
    const { id } = c.req.valid("param");
    await find(c.env, id);
    const { url, eventTypes, description, enabled } = c.req.valid("json");
    const row = await database(c.env.DB)
      .update(webhooks)
      .set({
        ...(url !== undefined ? { url } : {}),
        ...(eventTypes !== undefined ? { eventTypes } : {}),
        ...(description !== undefined ? { description } : {}),
        // Enabled again: it starts afresh, its past failures forgiven.
        ...(enabled !== undefined ? { enabled, ...(enabled ? { disabledReason: null, failingSince: null } : {}) } : {}),
      })
      .where(eq(webhooks.id, id))
      .returning()
      .get();
    return c.json(describeWebhook(row!));
  },
);

webhookRoutes.delete(
  "/:id",
  docs("deleteWebhook", "Delete a webhook subscription", {
    204: emptyResponse("Deleted: nothing more is sent to it."),
    ...errorResponses("not_found"),
  }),
  webhookParam,
  async (c) => {
    const { id } = c.req.valid("param");
    await find(c.env, id);
    await database(c.env.DB).delete(webhooks).where(eq(webhooks.id, id));
    await c.env.WEBHOOK_SENDERS.getByName(id).forget();
    return c.body(null, 204);
  },
);

webhookRoutes.post(
  "/:id/test",
  docs("testWebhook", "Send a `webhook.test` event", {
    202: jsonResponse(z.object({ eventId: z.string() }), "The test event is on its way."),
    ...errorResponses("not_found", "webhook_disabled"),
  }),
  webhookParam,
  async (c) => {
    const subscription = await find(c.env, c.req.valid("param").id);
    if (!subscription.enabled) throw apiError("webhook_disabled", "The webhook is disabled; enable it first.");
    const event: VideoEvent = {
      id: `evt_${crypto.randomUUID().replaceAll("-", "")}`,
      type: "webhook.test" satisfies EventType,
      timestamp: new Date().toISOString(),
      videoId: null,
      sequence: 0,
      data: { webhookId: subscription.id },
      video: null,
    };
    await c.env.WEBHOOK_SENDERS.getByName(subscription.id).enqueue(subscription.id, event);
    return c.json({ eventId: event.id }, 202);
  },
);

webhookRoutes.get(
  "/:id/deliveries",
  docs("listWebhookDeliveries", "A subscription's delivery tries, newest first", {
    200: jsonResponse(DeliveryPageSchema, "A page of tries; pass `nextCursor` as `before` for older ones."),
    ...errorResponses("not_found", "invalid_request", "invalid_cursor"),
  }),
  webhookParam,
  validQuery(DeliveryQuerySchema),
  async (c) => {
    const { id } = c.req.valid("param");
    await find(c.env, id);
    const { limit, before } = c.req.valid("query");
    const where: SQL[] = [eq(webhookDeliveries.webhookId, id)];
    if (before !== undefined) {
      if (!/^[0-9]{1,15}$/.test(before))
        throw apiError("invalid_cursor", "`before` must be a cursor this API gave out.");
      where.push(lt(webhookDeliveries.seq, Number(before)));
    }
    const rows = await database(c.env.DB)
      .select()
      .from(webhookDeliveries)
      .where(and(...where))
      .orderBy(desc(webhookDeliveries.seq))
      .limit(limit);
    return c.json({
      items: rows.map((r) => ({
        eventId: r.eventId,
        eventType: r.eventType,
        attempt: r.attempt,
        statusCode: r.statusCode,
        latencyMs: r.latencyMs,
        error: r.error,
        attemptedAt: new Date(r.attemptedAt).toISOString(),
      })),
      nextCursor: rows.length === limit ? String(rows.at(-1)!.seq) : null,
    });
  },
);

async function find(env: Env, id: string): Promise<typeof webhooks.$inferSelect> {
  const row = await database(env.DB).select().from(webhooks).where(eq(webhooks.id, id)).get();
  if (!row) throw noSuchWebhook();
  return row;
}

function describeWebhook(row: typeof webhooks.$inferSelect): Webhook {
  return {
    id: row.id,
    url: row.url,
    eventTypes: (row.eventTypes as Webhook["eventTypes"]) ?? null,
    description: row.description,
    enabled: row.enabled,
    disabledReason: row.disabledReason,
    createdAt: new Date(row.createdAt).toISOString(),
  };
}

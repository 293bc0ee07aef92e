/**
 * `GET /api/events` (administrator): every video's events, oldest first,
 * from a cursor, so a consumer that was down catches up without gaps. The
 * cursor is D1's own order of the events (`seq`, given as each is written,
 * one writer at a time), so events written while a consumer pages are
 * never skipped and never seen twice.
 */
import { and, asc, eq, gt, type SQL } from "drizzle-orm";
import { Hono } from "hono";
import { describeRoute } from "hono-openapi";
import { EventPageSchema, EventQuerySchema, type VideoEvent } from "../contracts/events.ts";
import { events } from "../db/schema.ts";
import { database } from "../db/videos.ts";
import { administrator } from "../http/auth.ts";
import { apiError } from "../http/errors.ts";
import { validQuery } from "../http/validate.ts";
import { credentials, errorResponses, jsonResponse, TOKEN_ERRORS } from "../openapi/docs.ts";

export const eventLog = new Hono<{ Bindings: Env }>();

const listDocs = describeRoute({
  tags: ["events"],
  operationId: "listEvents",
  summary: "Events, oldest first",
  description: "Every state change of every video, from the cursor `after` on; pass `nextCursor` as `after` to go on.",
  security: credentials.administrator,
  responses: {
    200: jsonResponse(EventPageSchema, "A page of events."),
    ...errorResponses("invalid_request", "invalid_cursor", ...TOKEN_ERRORS),
  },
});

eventLog.get("/", listDocs, administrator, validQuery(EventQuerySchema), async (c) => {
  const { after, limit, type, videoId } = c.req.valid("query");
  const from = after === undefined ? 0 : cursorSeq(after);
  const where: SQL[] = [gt(events.seq, from)];
  if (type) where.push(eq(events.type, type));
  if (videoId) where.push(eq(events.videoId, videoId));
  const rows = await database(c.env.DB)
    .select({ seq: events.seq, body: events.body })
    .from(events)
    .where(and(...where))
    .orderBy(asc(events.seq))
    .limit(limit);
  const last = rows.at(-1)?.seq ?? from;
  return c.json({
    items: rows.map((r) => JSON.parse(r.body) as VideoEvent),
    nextCursor: String(last),
  });
});

function cursorSeq(cursor: string): number {
  if (!/^[0-9]{1,15}$/.test(cursor)) throw apiError("invalid_cursor", "`after` must be a cursor this API gave out.");
  return Number(cursor);
}

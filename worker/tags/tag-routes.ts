/** `/api/tags?prefix=`: tag suggestions, most used first. */
import { Hono } from "hono";
import { TagQuerySchema } from "../contracts/video.ts";
import { validQuery } from "../http/validate.ts";
import { suggestTags } from "../search/list.ts";

export const tags = new Hono<{ Bindings: Env }>();

tags.get("/", validQuery(TagQuerySchema), async (c) => {
  const { prefix, limit } = c.req.valid("query");
  return c.json({ tags: await suggestTags(c.env.DB, prefix, limit) }, 200, { "Cache-Control": "public, max-age=30" });
});

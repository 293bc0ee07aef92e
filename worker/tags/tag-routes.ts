/** `/api/tags?prefix=`: tag suggestions, most used first. */
import { Hono } from "hono";
import { TagQuerySchema } from "../contracts/video.ts";
import { parse } from "../http/validate.ts";
import { suggestTags } from "../search/list.ts";

export const tags = new Hono<{ Bindings: Env }>();

tags.get("/", async (c) => {
  const { prefix, limit } = parse(TagQuerySchema, c.req.query());
  return c.json({ tags: await suggestTags(c.env.DB, prefix, limit) }, 200, { "Cache-Control": "public, max-age=30" });
});

/** `/api/tags?prefix=`: tag suggestions, most used first. */
import { Hono } from "hono";
import { z } from "zod";
import { parse } from "../http/validate.ts";
import { suggestTags } from "../search/list.ts";

export const tags = new Hono<{ Bindings: Env }>();

const SuggestQuerySchema = z.object({
  prefix: z.string().trim().max(40).default(""),
  limit: z.coerce.number().int().min(1).max(50).default(10),
});

tags.get("/", async (c) => {
  const { prefix, limit } = parse(SuggestQuerySchema, c.req.query());
  return c.json({ tags: await suggestTags(c.env.DB, prefix, limit) }, 200, { "Cache-Control": "public, max-age=30" });
});

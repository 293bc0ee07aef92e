/** `/api/tags?prefix=`: tag suggestions, most used first. */
import { Hono } from "hono";
import { describeRoute } from "hono-openapi";
import { TagQuerySchema, TagSuggestionsSchema } from "../contracts/video.ts";
import { validQuery } from "../http/validate.ts";
import { errorResponses, header, jsonResponse } from "../openapi/docs.ts";
import { suggestTags } from "../search/list.ts";

export const tags = new Hono<{ Bindings: Env }>();

const suggestDocs = describeRoute({
  tags: ["tags"],
  operationId: "suggestTags",
  summary: "Tag suggestions",
  description: "Tags of ready, public videos starting with `prefix`, most used first.",
  responses: {
    200: jsonResponse(TagSuggestionsSchema, "The suggestions.", { "Cache-Control": header("`public, max-age=30`.") }),
    ...errorResponses("invalid_request"),
  },
});

tags.get("/", suggestDocs, validQuery(TagQuerySchema), async (c) => {
  const { prefix, limit } = c.req.valid("query");
  return c.json({ tags: await suggestTags(c.env.DB, prefix, limit) }, 200, { "Cache-Control": "public, max-age=30" });
});

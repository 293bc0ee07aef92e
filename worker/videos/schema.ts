/** Zod schemas for `/api/videos` queries and edits. */
import { z } from "zod";
import { VISIBILITIES } from "../db/schema.ts";
import { DescriptionSchema, TagsSchema, TitleSchema } from "../uploads/schema.ts";

export const ListQuerySchema = z.object({
  q: z.string().max(1000, "q must be at most 1000 characters").optional(),
  tag: z.string().trim().min(1).max(40).optional(),
  sort: z.enum(["relevance", "newest", "oldest", "duration"]).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(24),
  cursor: z.string().max(512).optional(),
});

export const UpdateVideoSchema = z
  .object({
    title: TitleSchema.pipe(z.string().min(1, "title must not be empty")).optional(),
    description: DescriptionSchema.optional(),
    tags: TagsSchema.optional(),
    visibility: z.enum(VISIBILITIES).optional(),
  })
  .refine((o) => Object.values(o).some((v) => v !== undefined), "nothing to change");

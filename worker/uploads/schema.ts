/** Zod schemas for the upload API and the transcode queue message; types come from them. */
import { z } from "zod";
import { VISIBILITIES } from "../db/schema.ts";
import { VideoIdSchema } from "../storage/keys.ts";

// C0 control characters (and DEL) have no place in a name or a title.
const NO_CONTROL = /^[^\u0000-\u001f\u007f]*$/;
const NO_CONTROL_BUT_LINES = /^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]*$/;

const line = (max: number) => z.string().trim().max(max).regex(NO_CONTROL, "must not contain control characters");

export const TagsSchema = z
  .array(line(40).pipe(z.string().min(1, "tags must not be empty")))
  .max(20)
  // Duplicates (ignoring case) collapse to the first spelling.
  .transform((tags) => tags.filter((t, i) => tags.findIndex((u) => u.toLowerCase() === t.toLowerCase()) === i));

export const TitleSchema = line(200);
export const DescriptionSchema = z
  .string()
  .max(5000)
  .regex(NO_CONTROL_BUT_LINES, "must not contain control characters");

export const createUploadSchema = (maxUploadBytes: number) =>
  z.object({
    filename: line(255).pipe(z.string().min(1, "filename must not be empty")),
    size: z.number().int().min(1).max(maxUploadBytes, `size must be at most ${maxUploadBytes} bytes`),
    contentType: z
      .string()
      .regex(
        /^(video\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}|application\/octet-stream)$/i,
        "contentType must be video/* or application/octet-stream",
      )
      .transform((t) => t.toLowerCase()),
    title: TitleSchema.optional(),
    description: DescriptionSchema.optional(),
    tags: TagsSchema.optional(),
    visibility: z.enum(VISIBILITIES).default("public"),
    chunkSize: z.number().int().positive().optional(),
  });

export type CreateUploadBody = z.infer<ReturnType<typeof createUploadSchema>>;

/** Path parameter of chunk routes: a 1-based part number. */
export const ChunkIndexSchema = z.coerce.number().int().min(1).max(10_000);

/** The message completion puts on the transcode queue. */
export const TranscodeJobSchema = z.object({
  videoId: VideoIdSchema,
  attempt: z.number().int().min(1),
});
export type TranscodeJob = z.infer<typeof TranscodeJobSchema>;

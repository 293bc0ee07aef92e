/**
 * The upload API's requests and answers: create, chunk receipts, status,
 * completion. The chunk rules themselves (sizes, count) are in
 * worker/uploads/chunk-plan.ts; what a client sees of them is here.
 */
import { z } from "zod";
import { decimalInt } from "./decimal-int.ts";
import { notAVideoReason } from "./source-types.ts";
import { DescriptionSchema, line, TagsSchema, TitleSchema } from "./video.ts";
import { VIDEO_STATUSES, VISIBILITIES } from "./vocabulary.ts";

/** `POST /api/uploads`; the size limit is the deployment's `MAX_UPLOAD_BYTES`. */
export const createUploadSchema = (maxUploadBytes: number) =>
  z.object({
    filename: line(255).pipe(z.string().min(1, "filename must not be empty")),
    size: z.number().int().min(1).max(maxUploadBytes, `size must be at most ${maxUploadBytes} bytes`),
    /**
     * `video/*`, or `application/octet-stream` when the type is unknown. Any
     * other media type is refused 415 `not_a_video` with the transcoder's own
     * reason (source-types.ts), so a person who picked a song or a photo
     * learns why before a byte is sent.
     */
    contentType: z
      .string()
      .regex(
        /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/i,
        "contentType must be a media type such as video/mp4",
      )
      .transform((t) => t.toLowerCase())
      .superRefine((type, ctx) => {
        const reason = notAVideoReason(type);
        if (reason) ctx.addIssue({ code: "custom", message: reason, params: { code: "not_a_video" } });
      }),
    title: TitleSchema.optional(),
    description: DescriptionSchema.optional(),
    tags: TagsSchema.optional(),
    visibility: z.enum(VISIBILITIES).default("public"),
    /** Preferred chunk size; the server clamps it to R2's part rules. */
    chunkSize: z.number().int().positive().optional(),
  });
export type CreateUpload = z.input<ReturnType<typeof createUploadSchema>>;

/** `201` to `POST /api/uploads`. The upload token is shown once: it is the owner's only credential. */
export const UploadCreatedSchema = z
  .object({
    videoId: z.string(),
    uploadToken: z.string(),
    chunkSize: z.number().int().positive(),
    totalChunks: z.number().int().positive(),
    /** ISO 8601; pushed back by every chunk. */
    expiresAt: z.string(),
  })
  .meta({ id: "UploadCreated" });
export type UploadCreated = z.infer<typeof UploadCreatedSchema>;

/** `GET /api/uploads/:id`: what arrived, to resume from. */
export const UploadStatusSchema = z
  .object({
    videoId: z.string(),
    status: z.enum(VIDEO_STATUSES),
    size: z.number().int().positive(),
    chunkSize: z.number().int().positive(),
    totalChunks: z.number().int().positive(),
    /** 1-based indexes of the chunks stored, ascending. */
    received: z.array(z.number().int().positive()),
    /** ISO 8601. */
    expiresAt: z.string(),
  })
  .meta({ id: "UploadStatus" });
export type UploadStatus = z.infer<typeof UploadStatusSchema>;

/** Path parameter of chunk routes: a 1-based chunk index. */
export const ChunkIndexSchema = decimalInt(1, 10_000);

/** `200` to `PUT /api/uploads/:id/chunks/:n`. */
export const ChunkReceiptSchema = z
  .object({
    chunk: z.number().int().positive(),
    size: z.number().int().nonnegative(),
    /** Hex SHA-256 of the bytes stored. */
    sha256: z.string(),
    /** How many chunks are stored now. */
    received: z.number().int().nonnegative(),
    totalChunks: z.number().int().positive(),
  })
  .meta({ id: "ChunkReceipt" });
export type ChunkReceipt = z.infer<typeof ChunkReceiptSchema>;

/** `202` to `POST /api/uploads/:id/complete`. */
export const CompletionSchema = z
  .object({ videoId: z.string(), status: z.enum(VIDEO_STATUSES) })
  .meta({ id: "Completion" });
export type Completion = z.infer<typeof CompletionSchema>;

/** `POST /api/direct-uploads`: a one-time capability to upload one video, for a browser that holds no credential. */
export const createDirectUploadSchema = (maxUploadBytes: number) =>
  z.object({
    /** The largest file the capability takes; the deployment's `MAX_UPLOAD_BYTES` when unset. */
    maxSizeBytes: z.number().int().min(1).max(maxUploadBytes).optional(),
    expiresInSeconds: z
      .number()
      .int()
      .min(60)
      .max(7 * 24 * 3600)
      .default(1800),
    title: TitleSchema.optional(),
    description: DescriptionSchema.optional(),
    tags: TagsSchema.optional(),
    visibility: z.enum(VISIBILITIES).optional(),
    /** The one browser origin (`https://example.com`) the capability may be used from. */
    allowedOrigin: z
      .string()
      .max(255)
      .regex(/^https?:\/\/[a-z0-9.-]+(:[0-9]{1,5})?$/i, "allowedOrigin must be an origin such as https://example.com")
      .transform((o) => o.toLowerCase())
      .optional(),
  });
export type CreateDirectUpload = z.input<ReturnType<typeof createDirectUploadSchema>>;

/** `201` to `POST /api/direct-uploads`: where the browser uploads, by tus or by our API, until `expiresAt`. */
export const DirectUploadCreatedSchema = z
  .object({
    videoId: z.string(),
    /** A tus creation endpoint: a tus client's `endpoint`. */
    tusUrl: z.string(),
    /** Our API's creation endpoint: `POST` it the body of `POST /api/uploads`, then send chunks with the token it answers. */
    uploadUrl: z.string(),
    /** ISO 8601. */
    expiresAt: z.string(),
  })
  .meta({ id: "DirectUploadCreated" });
export type DirectUploadCreated = z.infer<typeof DirectUploadCreatedSchema>;

/** `POST /api/imports`: fetch a video from a URL. */
export const CreateImportSchema = z
  .object({
    url: z.string().max(2048),
    title: TitleSchema.optional(),
    description: DescriptionSchema.optional(),
    tags: TagsSchema.optional(),
    visibility: z.enum(VISIBILITIES).default("public"),
  })
  .meta({ id: "CreateImport" });
export type CreateImport = z.input<typeof CreateImportSchema>;

/** `202` to `POST /api/imports`; the video's status says how the import goes. The token is the owner's, as for an upload. */
export const ImportAcceptedSchema = z
  .object({
    videoId: z.string(),
    uploadToken: z.string(),
    status: z.enum(VIDEO_STATUSES),
  })
  .meta({ id: "ImportAccepted" });
export type ImportAccepted = z.infer<typeof ImportAcceptedSchema>;

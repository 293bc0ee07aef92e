/**
 * `POST /api/imports`: Reelay fetches a video from a URL (import-fetch.ts,
 * on the import queue) into the same R2 multipart path as an upload, chunk
 * by chunk with SHA-256, and processes it like any upload. The answer is
 * 202 at once; `GET /api/videos/:id` then says `importing` with `progress`,
 * and the usual states after, or `failed` with the reason.
 */
import { Hono } from "hono";
import { describeRoute } from "hono-openapi";
import { readConfig } from "../config.ts";
import { CreateImportSchema, ImportAcceptedSchema } from "../contracts/upload.ts";
import { titleFromFilename } from "../contracts/vocabulary.ts";
import { uploader } from "../http/auth.ts";
import { apiError, unwrap } from "../http/errors.ts";
import { validJson } from "../http/validate.ts";
import { credentials, errorResponses, header, JSON_BODY_ERRORS, jsonResponse, TOKEN_ERRORS } from "../openapi/docs.ts";
import { assertVisibilityPlayable } from "../playback/playback-access.ts";
import { newVideoId } from "../storage/keys.ts";
import { creatingClient } from "../uploads/client.ts";
import { videoObject } from "../video-object/stub.ts";
import type { ImportMessage } from "./import-fetch.ts";
import { checkImportUrl, importFilename } from "./import-url.ts";

export const imports = new Hono<{ Bindings: Env }>();

const importDocs = describeRoute({
  tags: ["imports"],
  operationId: "createImport",
  summary: "Import a video from a URL",
  description:
    "Reelay fetches the URL (https; http only where the deployment allows it) into storage chunk by chunk, then processes it like any upload. `GET /api/videos/{id}` says `importing` with `progress`, then the usual states, or `failed` with the reason.",
  security: credentials.uploader,
  responses: {
    202: jsonResponse(ImportAcceptedSchema, "The import is queued.", {
      Location: header("The video's URL: `/api/videos/{videoId}`."),
    }),
    ...errorResponses(...JSON_BODY_ERRORS, "invalid_url", ...TOKEN_ERRORS, "uploads_disabled", "rate_limited"),
  },
});

imports.post("/", importDocs, uploader, validJson(CreateImportSchema), creatingClient, async (c) => {
  const body = c.req.valid("json");
  const checked = checkImportUrl(body.url, readConfig(c.env).allowHttpImports);
  if (!checked.ok) throw apiError("invalid_url", checked.reason);
  assertVisibilityPlayable(c.env, body.visibility);
  const videoId = newVideoId();
  const filename = importFilename(checked.url, null);
  const { uploadToken } = unwrap(
    await videoObject(c.env, videoId).createImport({
      videoId,
      url: checked.url.href,
      filename,
      title: body.title || titleFromFilename(filename),
      description: body.description ?? "",
      tags: body.tags ?? [],
      visibility: body.visibility,
      clientKey: c.var.clientKey,
    }),
  );
  await c.env.IMPORT_QUEUE.send({ videoId } satisfies ImportMessage);
  return c.json({ videoId, uploadToken, status: "importing" }, 202, { Location: `/api/videos/${videoId}` });
});

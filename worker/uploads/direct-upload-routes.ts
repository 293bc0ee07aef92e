/**
 * `/api/direct-uploads`: the uploader (holding `UPLOADER_TOKEN`) mints a
 * one-time capability for a browser to upload one video, by tus (`tusUrl`)
 * or by our API (`uploadUrl`), without ever seeing the credential, as
 * Cloudflare Stream's and Mux's direct creator uploads do. The video's
 * object keeps the reservation (upload.ts `reserveDirect`) and checks every
 * use: once, before `expiresAt`, up to `maxSizeBytes`, from `allowedOrigin`.
 */
import { Hono } from "hono";
import { describeRoute } from "hono-openapi";
import { readConfig } from "../config.ts";
import { createDirectUploadSchema, DirectUploadCreatedSchema } from "../contracts/upload.ts";
import { uploader } from "../http/auth.ts";
import { unwrap } from "../http/errors.ts";
import { validJson } from "../http/validate.ts";
import { credentials, errorResponses, JSON_BODY_ERRORS, jsonResponse, TOKEN_ERRORS } from "../openapi/docs.ts";
import { newVideoId } from "../storage/keys.ts";
import { videoObject } from "../video-object/stub.ts";
import { newDirectCapability } from "./direct-capability.ts";

export const directUploads = new Hono<{ Bindings: Env }>();

const createDocs = describeRoute({
  tags: ["direct uploads"],
  operationId: "createDirectUpload",
  summary: "Create a direct upload link",
  description:
    "A one-time capability for a browser to upload one video, by tus (`tusUrl`) or by our API (`uploadUrl`), without ever seeing the credential: once, before `expiresAt`, up to `maxSizeBytes`, and from `allowedOrigin` when set. The title, description, tags and visibility set here win over the browser's.",
  security: credentials.uploader,
  responses: {
    201: jsonResponse(DirectUploadCreatedSchema, "The link's URLs."),
    ...errorResponses(...JSON_BODY_ERRORS, ...TOKEN_ERRORS, "uploads_disabled"),
  },
});

directUploads.post(
  "/",
  createDocs,
  uploader,
  validJson((env) => createDirectUploadSchema(readConfig(env).maxUploadBytes)),
  async (c) => {
    const config = readConfig(c.env);
    const body = c.req.valid("json");
    const videoId = newVideoId();
    const { capability, secret } = newDirectCapability(videoId);
    const { expiresAt } = unwrap(
      await videoObject(c.env, videoId).reserveDirect({
        secret,
        expiresAt: Date.now() + body.expiresInSeconds * 1000,
        maxSizeBytes: body.maxSizeBytes ?? config.maxUploadBytes,
        title: body.title,
        description: body.description,
        tags: body.tags,
        visibility: body.visibility,
        allowedOrigin: body.allowedOrigin,
      }),
    );
    // Absolute: the browser that uses them runs on the creator's site, not this one.
    const base = config.publicUrl ?? new URL(c.req.url).origin;
    const query = `?direct=${encodeURIComponent(capability)}`;
    return c.json(
      {
        videoId,
        tusUrl: new URL(`/api/tus${query}`, base).href,
        uploadUrl: new URL(`/api/uploads${query}`, base).href,
        expiresAt,
      },
      201,
    );
  },
);

/**
 * The HTTP application: CORS, the one error shape, and the resource routes.
 * Every failure leaves here as `{ error: { code, message } }`.
 */
import { type ErrorHandler, Hono, type MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import { HTTPException } from "hono/http-exception";
import { describeRoute } from "hono-openapi";
import { readConfig } from "./config.ts";
import { ApiError, apiError, fromHttpException } from "./http/errors.ts";
import { uploads } from "./uploads/upload-routes.ts";
import { tus, tusDiscoveryDocs, tusProtocol } from "./uploads/tus-routes.ts";
import { TUS_REQUEST_HEADERS, TUS_RESPONSE_HEADERS } from "./uploads/tus-headers.ts";
import { directUploads } from "./uploads/direct-upload-routes.ts";
import { imports } from "./imports/import-routes.ts";
import { eventLog } from "./events/event-routes.ts";
import { webhookRoutes } from "./webhooks/webhook-routes.ts";
import { videos } from "./videos/video-routes.ts";
import { captionApi } from "./captions/caption-routes.ts";
import { tags } from "./tags/tag-routes.ts";
import { internal } from "./processing/job-routes.ts";
import { playback } from "./playback/playback-routes.ts";
import { frameRoutes } from "./playback/frame-routes.ts";
import { downloads } from "./downloads/download-routes.ts";
import { pages } from "./pages/page-routes.ts";
import { oembed } from "./oembed/oembed-routes.ts";
import { playbackTokens } from "./playback/playback-token-routes.ts";
import { HealthSchema } from "./contracts/health.ts";
import { jsonResponse } from "./openapi/docs.ts";
import { openApiDocument } from "./openapi/document.ts";
import { apiReference } from "./openapi/api-reference.ts";

export const app = new Hono<{ Bindings: Env }>();

// Browsers may call the API and play videos from the configured origins.
const crossOrigin: MiddlewareHandler<{ Bindings: Env }> = async (c, next) => {
  const { corsOrigins } = readConfig(c.env);
  return cors({
    origin: corsOrigins.includes("*") ? "*" : corsOrigins,
    allowMethods: ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
    allowHeaders: ["Authorization", "Content-Type", "Content-Digest", "Range", ...TUS_REQUEST_HEADERS],
    exposeHeaders: ["Content-Range", "Content-Length", "ETag", "Retry-After", ...TUS_RESPONSE_HEADERS],
    maxAge: 86_400,
  })(c, next);
};
// tus names its version on every answer, CORS preflights included: it wraps the CORS middleware.
app.use("/api/tus", tusProtocol);
app.use("/api/tus/*", tusProtocol);
app.use("/api/*", crossOrigin);
app.use("/videos/*", crossOrigin);

const healthDocs = describeRoute({
  tags: ["health"],
  operationId: "health",
  summary: "Whether the worker is up",
  responses: { 200: jsonResponse(HealthSchema, "The worker is up.") },
});
app.get("/api/health", healthDocs, (c) => c.json({ ok: true }));
app.route("/api/uploads", uploads);
app.route("/api/tus", tus);
app.route("/api/direct-uploads", directUploads);
app.route("/api/imports", imports);
app.route("/api/events", eventLog);
app.route("/api/webhooks", webhookRoutes);
app.route("/api/videos", videos);
app.route("/api/videos", captionApi);
app.route("/api/videos", playbackTokens);
app.route("/api/tags", tags);
app.route("/api/oembed", oembed);
app.route("/videos", downloads);
app.route("/videos", frameRoutes);
app.route("/videos", playback);
app.route("/internal", internal);
// The document of every route above, read off the routes themselves, and its interactive reference.
app.get("/api/openapi.json", openApiDocument(app, { paths: { "/api/tus": { options: tusDiscoveryDocs } } }));
app.get("/api/docs", apiReference);

const notFound = () => apiError("not_found", "No such resource.").toResponse();

// Anything under /api that matched no route is a JSON 404, never a page.
app.all("/api/*", notFound);
app.route("/", pages);

const onError: ErrorHandler<{ Bindings: Env }> = (err) => {
  if (err instanceof ApiError) {
    const retryAfter = err.details.retryAfter;
    return err.toResponse(typeof retryAfter === "number" ? { "Retry-After": String(retryAfter) } : undefined);
  }
  if (err instanceof HTTPException && err.status < 500) return fromHttpException(err).toResponse();
  console.error("unhandled error", err instanceof Error ? err.stack : err);
  return apiError("internal_error", "Something went wrong on our side; please try again.").toResponse();
};

app.notFound(notFound);
app.onError(onError);

/**
 * What a transcoder container reaches when it calls the Worker
 * (processing/container.ts): the job storage protocol, the very routes above
 * under `/internal`, and nothing else; no public or operator API.
 */
export const containerOutbound = new Hono<{ Bindings: Env }>();
containerOutbound.route("/internal", internal);
containerOutbound.notFound(notFound);
containerOutbound.onError(onError);

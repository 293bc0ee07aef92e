/**
 * The HTTP application: CORS, the one error shape, and the resource routes.
 * Every failure leaves here as `{ error: { code, message } }`.
 */
import { Hono } from "hono";
import { cors } from "hono/cors";
import { HTTPException } from "hono/http-exception";
import { readConfig } from "./config.ts";
import { ApiError, apiError } from "./http/errors.ts";
import { uploads } from "./uploads/routes.ts";
import { videos } from "./videos/routes.ts";
import { internal } from "./processing/routes.ts";
import { playback } from "./playback/routes.ts";

export const app = new Hono<{ Bindings: Env }>();

app.use("*", async (c, next) => {
  const { corsOrigins } = readConfig(c.env);
  return cors({
    origin: corsOrigins.includes("*") ? "*" : corsOrigins,
    allowMethods: ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
    allowHeaders: ["Authorization", "Content-Type", "Content-Digest", "Range"],
    exposeHeaders: ["Location", "Content-Range", "Content-Length", "ETag", "Retry-After"],
    maxAge: 86_400,
  })(c, next);
});

app.get("/api/health", (c) => c.json({ ok: true }));
app.route("/api/uploads", uploads);
app.route("/api/videos", videos);
app.route("/videos", playback);
app.route("/internal", internal);

app.notFound(() => apiError(404, "not_found", "No such resource.").toResponse());

app.onError((err) => {
  if (err instanceof ApiError) {
    const retryAfter = err.details.retryAfter;
    return err.toResponse(typeof retryAfter === "number" ? { "Retry-After": String(retryAfter) } : undefined);
  }
  if (err instanceof HTTPException && err.status < 500) {
    return apiError(err.status as 400, "bad_request", err.message || "Bad request.").toResponse();
  }
  console.error("unhandled error", err instanceof Error ? err.stack : err);
  return apiError(500, "internal_error", "Something went wrong on our side; please try again.").toResponse();
});

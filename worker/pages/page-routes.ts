/**
 * The web pages (static assets built from web/): `/watch/:id` is served from
 * watch.html, and every HTML page leaves with a Content-Security-Policy that
 * allows only our own scripts, styles and media (plus blob: URLs, which
 * hls.js uses for Media Source and its worker).
 */
import { Hono } from "hono";

export const pages = new Hono<{ Bindings: Env }>();

const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "media-src 'self' blob:",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

pages.get("/watch/:id", (c) => withSecurityHeaders(c.env.ASSETS.fetch(new URL("/watch", c.req.url))));

pages.all("*", (c) => withSecurityHeaders(c.env.ASSETS.fetch(c.req.raw)));

async function withSecurityHeaders(pending: Promise<Response>): Promise<Response> {
  const res = await pending;
  if (!res.headers.get("content-type")?.includes("text/html")) return res;
  const secured = new Response(res.body, res);
  secured.headers.set("Content-Security-Policy", CONTENT_SECURITY_POLICY);
  secured.headers.set("X-Content-Type-Options", "nosniff");
  secured.headers.set("Referrer-Policy", "strict-origin-when-cross-origin");
  return secured;
}

/**
 * The web pages (static assets built from web/): `/watch/:id` is served from
 * watch.html, and every HTML page leaves with the pages' security headers
 * (http/security-headers.ts): a Content-Security-Policy that allows only our
 * own scripts, styles and media.
 */
import { Hono } from "hono";
import { PAGE_SECURITY_HEADERS } from "../http/security-headers.ts";

export const pages = new Hono<{ Bindings: Env }>();

pages.get("/watch/:id", (c) => withSecurityHeaders(c.env.ASSETS.fetch(new URL("/watch", c.req.url))));

pages.all("*", (c) => withSecurityHeaders(c.env.ASSETS.fetch(c.req.raw)));

async function withSecurityHeaders(pending: Promise<Response>): Promise<Response> {
  const res = await pending;
  if (!res.headers.get("content-type")?.includes("text/html")) return res;
  const secured = new Response(res.body, res);
  for (const [name, value] of Object.entries(PAGE_SECURITY_HEADERS)) secured.headers.set(name, value);
  return secured;
}

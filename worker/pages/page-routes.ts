/**
 * The web pages (static assets built from web/): `/watch/:id` is served from
 * watch.html and `/embed/:id` from embed.html, and every HTML page leaves
 * with the pages' security headers (http/security-headers.ts): a
 * Content-Security-Policy that allows only our own scripts, styles and
 * media, and that lets no other site frame a page but the embed page.
 *
 * A watch page names its oEmbed (`<link rel="alternate"
 * type="application/json+oembed">`) in the HTML itself, where a CMS or chat
 * app looking for a player finds it without running the page's script.
 */
import { Hono } from "hono";
import { readConfig } from "../config.ts";
import { embedSecurityHeaders, PAGE_SECURITY_HEADERS } from "../http/security-headers.ts";
import { siteOrigin } from "../http/site-origin.ts";

export const pages = new Hono<{ Bindings: Env }>();

pages.get("/watch/:id", async (c) => {
  const page = await c.env.ASSETS.fetch(new URL("/watch", c.req.url));
  const watchUrl = `${siteOrigin(c.env, c.req.url)}/watch/${encodeURIComponent(c.req.param("id"))}`;
  const oembed = `/api/oembed?url=${encodeURIComponent(watchUrl)}&amp;format=json`;
  const advertised = new HTMLRewriter()
    .on("head", {
      element(head) {
        head.append(`<link rel="alternate" type="application/json+oembed" href="${oembed}">`, { html: true });
      },
    })
    .transform(page);
  return secured(advertised, PAGE_SECURITY_HEADERS);
});

pages.get("/embed/:id", async (c) =>
  secured(
    await c.env.ASSETS.fetch(new URL("/embed", c.req.url)),
    embedSecurityHeaders(readConfig(c.env).embedFrameAncestors),
  ),
);

pages.all("*", async (c) => secured(await c.env.ASSETS.fetch(c.req.raw), PAGE_SECURITY_HEADERS));

function secured(res: Response, headers: Record<string, string>): Response {
  if (!res.headers.get("content-type")?.includes("text/html")) return res;
  const out = new Response(res.body, res);
  for (const [name, value] of Object.entries(headers)) out.headers.set(name, value);
  return out;
}

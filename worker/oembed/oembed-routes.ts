/**
 * `GET /api/oembed?url=`: the oEmbed of a public video's watch or embed URL,
 * an iframe of `/embed/:id` sized to the video within `maxwidth`/`maxheight`.
 * Unlisted and private videos answer 404, as if they did not exist: a link
 * pasted somewhere public must not announce them. The watch page advertises
 * this endpoint (`<link rel="alternate" type="application/json+oembed">`,
 * pages/page-routes.ts).
 */
import { Hono } from "hono";
import { describeRoute } from "hono-openapi";
import { type OEmbed, OEmbedQuerySchema, OEmbedSchema } from "../contracts/oembed.ts";
import { VideoIdSchema } from "../contracts/video.ts";
import type { VideoRow } from "../db/schema.ts";
import { getVideo } from "../db/videos.ts";
import { apiError } from "../http/errors.ts";
import { siteOrigin } from "../http/site-origin.ts";
import { validQuery } from "../http/validate.ts";
import { errorResponses, jsonResponse } from "../openapi/docs.ts";
import { describeVideo } from "../videos/describe.ts";
import { embedIframe, embedSize } from "../contracts/embed.ts";
import { escapeHtml } from "../contracts/html.ts";
import { frameHeight, frameWidthFor, posterFile } from "../contracts/storyboard.ts";

export const oembed = new Hono<{ Bindings: Env }>();

const oembedDocs = describeRoute({
  tags: ["embeds"],
  operationId: "getOEmbed",
  summary: "The oEmbed of a video's link",
  description:
    "A `video` oEmbed response for a watch or embed URL of a public, playable video: an iframe of `/embed/:id` sized to the video within `maxwidth`/`maxheight`, its title and poster. Unlisted and private videos answer 404.",
  responses: {
    200: {
      ...jsonResponse(OEmbedSchema, "The oEmbed response (`text/xml` with `format=xml`)."),
    },
    ...errorResponses("invalid_request", "not_found"),
  },
});

oembed.get("/", oembedDocs, validQuery(OEmbedQuerySchema), async (c) => {
  const { url, maxwidth, maxheight, format } = c.req.valid("query");
  const base = siteOrigin(c.env, c.req.url);
  const id = videoIdOf(url, [base, new URL(c.req.url).origin]);
  const row = id ? await getVideo(c.env.DB, id) : null;
  if (row?.visibility !== "public" || row.status !== "ready" || !row.playbackJob)
    throw apiError("not_found", "No public video at that URL.");
  const body = describeEmbed(row, base, maxwidth, maxheight);
  const caching = { "Cache-Control": "public, max-age=300" };
  if (format === "xml") return c.body(oembedXml(body), 200, { ...caching, "Content-Type": "text/xml; charset=utf-8" });
  return c.json(body, 200, caching);
});

/** The video id of a watch or embed URL on one of `origins`; undefined for anything else. */
export function videoIdOf(url: string, origins: string[]): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (!origins.includes(parsed.origin)) return undefined;
  const match = parsed.pathname.match(/^\/(?:watch|embed)\/([^/]+)\/?$/);
  const id = match ? VideoIdSchema.safeParse(match[1]) : undefined;
  return id?.success ? id.data : undefined;
}

function describeEmbed(row: VideoRow, base: string, maxwidth?: number, maxheight?: number): OEmbed {
  const { width, height } = embedSize(row, maxwidth, maxheight);
  const src = `${base}/embed/${row.id}`;
  const poster = describeVideo(row).playback.poster;
  return {
    version: "1.0",
    type: "video",
    provider_name: "Reelay",
    provider_url: `${base}/`,
    title: row.title,
    html: embedIframe(src, { width, height }, row.title),
    width,
    height,
    ...(poster ? { thumbnail_url: `${base}${poster}`, ...posterSize(row) } : {}),
  };
}

/**
 * The poster's size: a frame at its largest width when the owner picked one
 * by time, else the first task's poster, taken at the top rung's size
 * (transcoder/encode.ts makePoster). Unknown for videos without renditions.
 */
function posterSize(row: VideoRow): { thumbnail_width?: number; thumbnail_height?: number } {
  if (row.frames && row.width && row.height && posterFile(row) !== "poster.jpg") {
    const width = frameWidthFor(row.frames);
    return { thumbnail_width: width, thumbnail_height: frameHeight(width, row.width, row.height) };
  }
  const top = (row.renditions ?? [])
    .filter((r) => r.name !== "source")
    .reduce<{ width: number; height: number } | null>((best, r) => (!best || r.width > best.width ? r : best), null);
  return top ? { thumbnail_width: top.width, thumbnail_height: top.height } : {};
}

/** oEmbed's XML form: the same fields as elements of `<oembed>`. */
function oembedXml(body: OEmbed): string {
  const fields = Object.entries(body)
    .map(([name, value]) => `<${name}>${escapeHtml(String(value))}</${name}>`)
    .join("");
  return `<?xml version="1.0" encoding="utf-8" standalone="yes"?><oembed>${fields}</oembed>`;
}

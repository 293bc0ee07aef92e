/**
 * `/api/videos`: per-video resources. For now the owner's download of the
 * original file, byte for byte, with `Range` support.
 */
import { Hono } from "hono";
import { apiError, unwrap } from "../http/errors.ts";
import { contentRange, parseRange } from "../http/range.ts";
import { coordinator, requireToken, videoIdParam } from "../uploads/routes.ts";

export const videos = new Hono<{ Bindings: Env }>();

videos.get("/:id/source", async (c) => {
  const id = videoIdParam(c, "id");
  const source = unwrap(await coordinator(c, id).source(requireToken(c)));
  const range = parseRange(c.req.header("range"), source.size);
  if (range.kind === "unsatisfiable") {
    throw apiError(416, "range_not_satisfiable", "The requested range is outside the file.", { size: source.size });
  }
  const object = await c.env.VIDEOS.get(source.r2Key, range.kind === "range" ? { range: range.range } : {});
  if (!object) throw apiError(404, "not_found", "The source file is missing.");
  const headers = new Headers({
    "Content-Type": source.contentType,
    "Accept-Ranges": "bytes",
    ETag: object.httpEtag,
    "Cache-Control": "private, no-store",
    "Content-Disposition": attachment(source.filename),
  });
  if (range.kind === "range") {
    headers.set("Content-Range", contentRange(range.range, source.size));
    headers.set("Content-Length", String(range.range.length));
    return new Response(object.body, { status: 206, headers });
  }
  headers.set("Content-Length", String(source.size));
  return new Response(object.body, { status: 200, headers });
});

/** `attachment` with the user's filename, safely encoded (RFC 6266 / 8187). */
function attachment(filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]|["\\]/g, "_");
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}`;
}

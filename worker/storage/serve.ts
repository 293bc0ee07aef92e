/**
 * Serves an R2 object over HTTP the way players and CDNs expect: content
 * type, `ETag` / `If-None-Match` (304), single `Range` requests (206/416),
 * `Cache-Control` chosen by the caller, `HEAD`.
 */
import { apiError } from "../http/errors.ts";
import { contentRange, parseRange } from "../http/range.ts";

export type ServeOptions = { contentType?: string; cacheControl: string; headers?: Record<string, string> };

const TYPES: Record<string, string> = {
  m3u8: "application/vnd.apple.mpegurl",
  m4s: "video/mp4",
  mp4: "video/mp4",
  ts: "video/mp2t",
  jpg: "image/jpeg",
  json: "application/json",
};

export const contentTypeFor = (key: string) => TYPES[key.slice(key.lastIndexOf(".") + 1)] ?? "application/octet-stream";

export async function serveObject(req: Request, bucket: R2Bucket, key: string, opts: ServeOptions): Promise<Response> {
  const head = await bucket.head(key);
  if (!head) throw apiError(404, "not_found", "No such file.");
  const headers = new Headers({
    "Content-Type": opts.contentType ?? head.httpMetadata?.contentType ?? contentTypeFor(key),
    "Accept-Ranges": "bytes",
    ETag: head.httpEtag,
    "Cache-Control": opts.cacheControl,
    ...opts.headers,
  });
  if (ifNoneMatch(req.headers.get("if-none-match"), head.httpEtag)) return new Response(null, { status: 304, headers });
  const range = parseRange(req.headers.get("range"), head.size);
  if (range.kind === "unsatisfiable") {
    throw apiError(416, "range_not_satisfiable", "The requested range is outside the file.", { size: head.size });
  }
  const status = range.kind === "range" ? 206 : 200;
  const length = range.kind === "range" ? range.range.length : head.size;
  if (range.kind === "range") headers.set("Content-Range", contentRange(range.range, head.size));
  headers.set("Content-Length", String(length));
  if (req.method === "HEAD") return new Response(null, { status, headers });
  const object = await bucket.get(key, range.kind === "range" ? { range: range.range, onlyIf: { etagMatches: head.etag } } : { onlyIf: { etagMatches: head.etag } });
  // Replaced between head and get (a re-published playlist): ask the client to retry.
  if (!object || !("body" in object)) throw apiError(409, "changed", "The file changed while it was being read; retry.");
  return new Response(object.body, { status, headers });
}

function ifNoneMatch(header: string | null, etag: string): boolean {
  if (!header) return false;
  return header.split(",").some((t) => {
    const tag = t.trim().replace(/^W\//, "");
    return tag === "*" || tag === etag;
  });
}

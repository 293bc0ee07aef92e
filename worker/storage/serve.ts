/**
 * Serves bytes over HTTP the way players and CDNs expect: content type,
 * `ETag` / `If-None-Match` (304), single `Range` requests (206/416),
 * `Cache-Control` chosen by the caller, `HEAD`. R2 objects stream from the
 * bucket (`serveObject`); small generated bodies such as the master playlist
 * are served from memory (`serveBytes`) by the same rules.
 */
import { apiError } from "../http/errors.ts";
import { contentRange, parseRange, unsatisfiedRange, type ByteRange } from "../http/range.ts";

export type ServeOptions = {
  contentType?: string;
  cacheControl: string;
  headers?: Record<string, string>;
  /**
   * Answer a range request with at most this many bytes (a 206 whose
   * `Content-Range` says how many came); the client asks again from there.
   */
  maxRangeBytes?: number;
};

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
  if (!head) throw apiError("not_found", "No such file.");
  const contentType = opts.contentType ?? head.httpMetadata?.contentType ?? contentTypeFor(key);
  const answer = plan(req, { size: head.size, etag: head.httpEtag, contentType }, opts);
  if ("response" in answer) return answer.response;
  const onlyIf = { etagMatches: head.etag };
  const object = await bucket.get(key, answer.range ? { range: answer.range, onlyIf } : { onlyIf });
  // Replaced between head and get (a re-published playlist): ask the client to retry.
  if (!object || !("body" in object)) throw apiError("changed", "The file changed while it was being read; retry.");
  return new Response(object.body, { status: answer.status, headers: answer.headers });
}

/** A body held in memory, answered by the same rules as an R2 object. `etag` is a quoted entity tag. */
export function serveBytes(
  req: Request,
  body: Uint8Array,
  opts: ServeOptions & { contentType: string; etag: string },
): Response {
  const answer = plan(req, { size: body.length, etag: opts.etag, contentType: opts.contentType }, opts);
  if ("response" in answer) return answer.response;
  const bytes = answer.range ? body.subarray(answer.range.offset, answer.range.offset + answer.range.length) : body;
  return new Response(bytes, { status: answer.status, headers: answer.headers });
}

type Entity = { size: number; etag: string; contentType: string };
type Plan = { response: Response } | { status: 200 | 206; headers: Headers; range: ByteRange | undefined };

/** Everything but the body: 304, 416 and HEAD are answered here; otherwise the status, headers and range to send. */
function plan(req: Request, entity: Entity, opts: ServeOptions): Plan {
  const headers = new Headers({
    "Content-Type": entity.contentType,
    "Accept-Ranges": "bytes",
    ETag: entity.etag,
    "Cache-Control": opts.cacheControl,
    ...opts.headers,
  });
  if (ifNoneMatch(req.headers.get("if-none-match"), entity.etag))
    return { response: new Response(null, { status: 304, headers }) };
  const range = parseRange(req.headers.get("range"), entity.size);
  if (range.kind === "range" && opts.maxRangeBytes !== undefined)
    range.range.length = Math.min(range.range.length, opts.maxRangeBytes);
  if (range.kind === "unsatisfiable") {
    // Without the caching headers: a 416 is an answer to this request, not the file's.
    const refusal = apiError("range_not_satisfiable", "The requested range is outside the file.", {
      size: entity.size,
    });
    return {
      response: refusal.toResponse({ "Content-Range": unsatisfiedRange(entity.size), "Accept-Ranges": "bytes" }),
    };
  }
  const status = range.kind === "range" ? 206 : 200;
  if (range.kind === "range") headers.set("Content-Range", contentRange(range.range, entity.size));
  headers.set("Content-Length", String(range.kind === "range" ? range.range.length : entity.size));
  if (req.method === "HEAD") return { response: new Response(null, { status, headers }) };
  return { status, headers, range: range.kind === "range" ? range.range : undefined };
}

function ifNoneMatch(header: string | null, etag: string): boolean {
  if (!header) return false;
  return header.split(",").some((t) => {
    const tag = t.trim().replace(/^W\//, "");
    return tag === "*" || tag === etag;
  });
}

/** Request parsing with zod that fails as our one error shape, never as a 5xx. */
import type { Context } from "hono";
import type { z } from "zod";
import { ApiError, apiError } from "./errors.ts";

/** Largest JSON body the API reads; real ones are a few KiB. */
const MAX_JSON_BYTES = 64 * 1024;

export async function jsonBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  const declared = Number(c.req.header("content-length") ?? "0");
  if (declared > MAX_JSON_BYTES) throw tooLarge();
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder().decode(await readAtMost(c.req.raw.body, MAX_JSON_BYTES)));
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw apiError("invalid_json", "The request body is not valid JSON.");
  }
  return parse(schema, raw);
}

const tooLarge = () => apiError("payload_too_large", `JSON bodies are limited to ${MAX_JSON_BYTES} bytes.`);

/**
 * The body's bytes, refused as soon as they pass `limit`: a body sent without
 * Content-Length is never read further than that, and the limit counts
 * bytes, not characters.
 */
async function readAtMost(body: ReadableStream<Uint8Array> | null, limit: number): Promise<Uint8Array> {
  if (!body) return new Uint8Array();
  const pieces: Uint8Array[] = [];
  let total = 0;
  const reader = body.getReader();
  for (let r = await reader.read(); !r.done; r = await reader.read()) {
    total += r.value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    pieces.push(r.value);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const piece of pieces) {
    out.set(piece, at);
    at += piece.byteLength;
  }
  return out;
}

export function parse<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
  const first = issues[0];
  throw apiError("invalid_request", first ? `${first.path || "body"}: ${first.message}` : "Invalid request.", {
    issues,
  });
}

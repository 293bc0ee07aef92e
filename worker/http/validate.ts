/** Request parsing with zod that fails as our one error shape, never as a 5xx. */
import type { Context } from "hono";
import type { z } from "zod";
import { apiError } from "./errors.ts";

/** Largest JSON body the API reads; real ones are a few KiB. */
const MAX_JSON_BYTES = 64 * 1024;

export async function jsonBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  const declared = Number(c.req.header("content-length") ?? "0");
  if (declared > MAX_JSON_BYTES) throw apiError(413, "payload_too_large", `JSON bodies are limited to ${MAX_JSON_BYTES} bytes.`);
  const text = await c.req.text();
  if (text.length > MAX_JSON_BYTES) throw apiError(413, "payload_too_large", `JSON bodies are limited to ${MAX_JSON_BYTES} bytes.`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw apiError(400, "invalid_json", "The request body is not valid JSON.");
  }
  return parse(schema, raw);
}

export function parse<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
  const first = issues[0];
  throw apiError(400, "invalid_request", first ? `${first.path || "body"}: ${first.message}` : "Invalid request.", { issues });
}

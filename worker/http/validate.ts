/**
 * Validation of path parameters, queries and JSON bodies with
 * `@hono/zod-validator`: routes name a schema, handlers read
 * `c.req.valid(...)`, and every failure leaves as our one error shape,
 * 400 `invalid_request` listing each issue, never as a 5xx. Each validator
 * also documents its schema in the OpenAPI document (openapi/), so what a
 * route accepts and what the document says are one schema.
 */
import { zValidator } from "@hono/zod-validator";
import { resolver, uniqueSymbol } from "hono-openapi";
import { z } from "zod";
import { ERRORS, isErrorCode, type ServerErrorCode } from "../contracts/errors.ts";
import { type ApiError, apiError } from "./errors.ts";

/** Largest JSON body the API reads; real ones are a few KiB. */
const MAX_JSON_BYTES = 64 * 1024;

type Issues = readonly { path: readonly PropertyKey[]; message: string; params?: Record<string, unknown> }[];
/** What a validator that does not answer `invalid_request` answers instead, given the issues. */
type Refusal = (issues: Issues) => ApiError;

/**
 * 400 `invalid_request`: the message names the first issue, `issues` lists
 * each. A rule whose breach has its own catalogue code names it as the
 * issue's `params.code` (an audio file's type is 415 `not_a_video`, in
 * contracts/upload.ts); that refusal wins, with the rule's message.
 */
function invalidRequest(issues: Issues): ApiError {
  const named = issues.find((i) => isServerErrorCode(i.params?.code));
  if (named) return apiError(named.params!.code as ServerErrorCode, named.message);
  const listed = issues.map((i) => ({ path: i.path.join("."), message: i.message }));
  const first = listed[0];
  return apiError("invalid_request", first ? `${first.path || "body"}: ${first.message}` : "Invalid request.", {
    issues: listed,
  });
}

const isServerErrorCode = (code: unknown): code is ServerErrorCode => isErrorCode(code) && ERRORS[code] !== 0;

/** `value` as `schema` reads it, or 400 `invalid_request`; for values that are not a whole param, query or body. */
export function parse<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw invalidRequest(result.error.issues);
}

/**
 * `middleware`, carrying `schema` for the OpenAPI document: hono-openapi
 * reads `[uniqueSymbol]` off each middleware of a route, and documents a
 * `param` or `query` schema as parameters and a `json` one as the body.
 */
const documented = <M extends object>(middleware: M, target: "param" | "query" | "json", schema: z.ZodType): M =>
  Object.assign(middleware, { [uniqueSymbol]: { target, ...resolver(schema) } });

const refuseWith =
  (refusal: Refusal) =>
  (result: { success: boolean; error?: { issues: Issues } }): void => {
    if (!result.success) throw refusal(result.error?.issues ?? []);
  };

/** The path parameters as `schema` reads them; `refusal` replaces `invalid_request` (a malformed id is a 404). */
export const validParams = <S extends z.ZodType>(schema: S, refusal: Refusal = invalidRequest) =>
  documented(zValidator("param", schema, refuseWith(refusal)), "param", schema);

/**
 * The query as `schema` reads it. A repeated parameter counts once, by its
 * first value, as `c.req.query()` reads it; the validator alone would hand
 * the schema an array.
 */
export const validQuery = <S extends z.ZodType>(schema: S) =>
  documented(zValidator("query", z.preprocess(firstValues, schema), refuseWith(invalidRequest)), "query", schema);

const firstValues = (query: unknown) =>
  Object.fromEntries(
    Object.entries(query as Record<string, string | string[]>).map(([key, value]) => [
      key,
      Array.isArray(value) ? value[0] : value,
    ]),
  );

const jsonValidator = <S extends z.ZodType>(schema: S) => zValidator("json", schema, refuseWith(invalidRequest));

/**
 * A JSON body of at most 64 KiB, as `schema` reads it; `schema` may depend
 * on the deployment's config. The body is read here first, whatever its
 * declared Content-Type (the API never required one): over the limit is 413
 * `payload_too_large`, counted in bytes whether or not Content-Length is
 * sent; not JSON is 400 `invalid_json`. The validator reads only bodies
 * declared as JSON, so it is handed the bytes read, declared as such.
 * The document shows a config-dependent schema as the default config makes
 * it (a deployment's own `MAX_UPLOAD_BYTES` replaces the default maximum).
 */
export function validJson<S extends z.ZodType>(schema: S | ((env: Env) => S)): ReturnType<typeof jsonValidator<S>> {
  const validate: ReturnType<typeof jsonValidator<S>> = async (c, next) => {
    const bytes = await readJsonBytes(c.req.raw);
    const headers = new Headers(c.req.raw.headers);
    headers.set("content-type", "application/json");
    c.req.raw = new Request(c.req.raw, { body: bytes, headers });
    return jsonValidator(typeof schema === "function" ? schema(c.env as Env) : schema)(c, next);
  };
  return documented(validate, "json", typeof schema === "function" ? schema(DEFAULT_CONFIG_ENV) : schema);
}

/** An environment that sets nothing: config.ts reads its defaults from it. */
const DEFAULT_CONFIG_ENV = {} as Env;

/** The body's bytes, known to be JSON within the limit. */
async function readJsonBytes(req: Request): Promise<Uint8Array> {
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > MAX_JSON_BYTES) throw tooLarge();
  const bytes = await readAtMost(req.body, MAX_JSON_BYTES);
  try {
    JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw apiError("invalid_json", "The request body is not valid JSON.");
  }
  return bytes;
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

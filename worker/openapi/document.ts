/**
 * `GET /api/openapi.json`: the OpenAPI 3.1 document of every public route,
 * read off the routes themselves by hono-openapi: each route's
 * `describeRoute` (docs.ts) and the validators that check its parameters and
 * body (http/validate.ts). A route without them is missing from the
 * document, which openapi.test.ts catches. Built on the first request and
 * kept for the isolate's life: the routes never change while it runs.
 */
import type { Context, Hono } from "hono";
import { generateSpecs, type resolver } from "hono-openapi";
import packageJson from "../../package.json" with { type: "json" };
import { ErrorBodySchema } from "../contracts/error-body.ts";
import { HEAD_ONLY, jsonResponse, SECURITY_SCHEMES } from "./docs.ts";

type Operation = Record<string, unknown> & { responses?: Record<string, unknown> };
/** Operations by lower-case method, by OpenAPI path (or, for `webhooks`, by the webhook's name). */
export type PathItems = Record<string, Record<string, Operation>>;
/**
 * What no route carries: operations the middleware answers (tus's `OPTIONS`)
 * and the requests Reelay itself sends (OpenAPI 3.1 `webhooks`). Schemas in
 * them may be `resolver(...)` values, as in `describeRoute`.
 */
export type Extras = { paths?: PathItems; webhooks?: PathItems };
type Document = Awaited<ReturnType<typeof generateSpecs>>;

const TAGS = [
  { name: "uploads", description: "Resumable, checksummed uploads in chunks, by our own API." },
  { name: "tus", description: "The tus 1.0.0 resumable upload protocol, on the same storage path." },
  { name: "direct uploads", description: "One-time links for a browser to upload one video without a credential." },
  { name: "imports", description: "Videos fetched from a URL." },
  { name: "videos", description: "Search, listing, a video's description and status, and its owner's edits." },
  { name: "tags", description: "Tag suggestions." },
  { name: "playback", description: "What players fetch: HLS playlists, segments and posters." },
  { name: "embeds", description: "oEmbed, so a pasted link becomes a player; the player alone is `/embed/:id`." },
  { name: "events", description: "Every state change of every video, oldest first." },
  { name: "webhooks", description: "Subscriptions to events, delivered as Standard Webhooks." },
  { name: "health", description: "Whether the worker is up." },
];

const HEAD_ONLY_MARK = Object.keys(HEAD_ONLY)[0]!;

/** The route handler serving `app`'s document, with `extras`. */
export function openApiDocument(app: Hono<{ Bindings: Env }>, extras: Extras = {}) {
  let built: Promise<Document> | undefined;
  return async (c: Context) => {
    built ??= build(app, extras).catch((err) => {
      built = undefined;
      throw err;
    });
    return c.json(await built);
  };
}

async function build(app: Hono<{ Bindings: Env }>, extras: Extras): Promise<Document> {
  const document = await generateSpecs(app, {
    documentation: {
      openapi: "3.1.0",
      info: {
        title: "Reelay API",
        version: packageJson.version,
        description:
          "Resumable, checksummed uploads, search and adaptive HLS playback. Every failure is `{ error: { code, message, ...details } }`; branch on `code` (the `Error` schema lists each), never on the status alone. The interactive reference is at `/api/docs`.",
      },
      tags: TAGS,
      components: {
        securitySchemes: SECURITY_SCHEMES,
        responses: {
          // Every operation's `default`: what it may answer besides what it lists.
          Failure: jsonResponse(
            ErrorBodySchema,
            "Any other failure, in the one error shape: `internal_error` (500) when something broke on our side, `not_found` (404) for a path that names nothing, `method_not_allowed` (405), or `bad_request` (400) for a request HTTP itself refuses.",
          ),
        },
      },
    },
    // The transcoder's storage protocol is not a public API.
    exclude: [/^\/internal\//],
    // Validators refuse in our error shape, and not always with 400 (a malformed id is 404): routes list their own.
    defaultValidationErrorResponse: false,
  });
  document.components.schemas ??= {};
  const schemas = document.components.schemas as Record<string, unknown>;
  const paths = document.paths as PathItems;
  for (const [path, operations] of Object.entries(await resolveSchemas(extras.paths ?? {}, schemas))) {
    paths[path] = { ...paths[path], ...operations };
  }
  if (extras.webhooks) document.webhooks = (await resolveSchemas(extras.webhooks, schemas)) as Document["webhooks"];
  for (const item of Object.values(paths)) {
    // Hono answers HEAD with a GET route: the document says which of those serve HEAD alone, whose answers have no body.
    if (item.get?.[HEAD_ONLY_MARK]) {
      const { [HEAD_ONLY_MARK]: _, responses = {}, ...operation } = item.get;
      item.head = { ...operation, responses: Object.fromEntries(Object.entries(responses).map(withoutBody)) };
      delete item.get;
    }
    for (const operation of Object.values(item)) {
      operation.responses = { ...operation.responses, default: { $ref: "#/components/responses/Failure" } };
    }
  }
  return document;
}

const withoutBody = ([status, response]: [string, unknown]) => {
  const { content: _, ...rest } = response as { content?: unknown };
  return [status, rest] as const;
};

/**
 * `value` with every `resolver(...)` in it replaced by its OpenAPI schema, as
 * hono-openapi does for routes; the named schemas they use join `schemas`.
 */
async function resolveSchemas<T>(value: T, schemas: Record<string, unknown>): Promise<T> {
  if (Array.isArray(value)) return (await Promise.all(value.map((v) => resolveSchemas(v, schemas)))) as T;
  if (typeof value !== "object" || value === null) return value;
  if ("toOpenAPISchema" in value && typeof value.toOpenAPISchema === "function") {
    const resolved = await (value as unknown as ReturnType<typeof resolver>).toOpenAPISchema();
    const { $defs, ...schema } = resolved.schema as { $defs?: Record<string, unknown> };
    Object.assign(schemas, resolved.components?.schemas, $defs);
    return schema as T;
  }
  const entries = await Promise.all(
    Object.entries(value).map(async ([key, v]) => [key, await resolveSchemas(v, schemas)] as const),
  );
  return Object.fromEntries(entries) as T;
}

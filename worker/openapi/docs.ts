/**
 * How a route documents itself in the OpenAPI document (GET /api/openapi.json).
 * Each route names its docs in `describeRoute(...)` from hono-openapi, first
 * among its middleware; its path parameters, query and JSON body are
 * documented by the very validators that check them (http/validate.ts), so
 * neither can drift from what the route does:
 *
 *   const videoDocs = describeRoute({
 *     tags: ["videos"], operationId: "getVideo", summary: "A video",
 *     responses: { 200: jsonResponse(VideoSchema, "The video."), ...errorResponses("not_found") },
 *   });
 *   videos.get("/:id", videoDocs, videoParam, async (c) => …);
 *
 * A route without docs still appears (its validators document it) but fails
 * worker/openapi/openapi.test.ts; one with no validator either is missing,
 * which the same test catches.
 */
import { type DescribeRouteOptions, type GenerateSpecOptions, resolver } from "hono-openapi";
import type { z } from "zod";
import { ErrorBodySchema } from "../contracts/error-body.ts";
import { ERRORS, type ServerErrorCode } from "../contracts/errors.ts";

type SecurityRequirement = NonNullable<DescribeRouteOptions["security"]>[number];
type SecuritySchemes = NonNullable<NonNullable<GenerateSpecOptions["documentation"]["components"]>["securitySchemes"]>;
/** An OpenAPI header object: what a header says, and its value's JSON Schema. */
type Header = { description: string; required?: boolean; schema: Record<string, unknown> };

type ResponseHeaders = Record<string, Header>;
/** Bytes of `mediaType`, as a body's or an answer's schema. */
const BYTES = { type: "string", format: "binary" } as const;

/** A JSON answer, documented from the schema its body follows (as the server writes it: defaults applied). */
export const jsonResponse = (schema: z.ZodType, description: string, headers?: ResponseHeaders) => ({
  description,
  ...(headers ? { headers } : {}),
  content: { "application/json": { schema: resolver(schema, { options: { io: "output" } }) } },
});

/** An answer without a body (a 204, a HEAD). */
export const emptyResponse = (description: string, headers?: ResponseHeaders) => ({
  description,
  ...(headers ? { headers } : {}),
});

/** A response header's OpenAPI object. */
export const header = (description: string, schema: Header["schema"] = { type: "string" }): Header => ({
  description,
  schema,
});

/** A request body of bytes (a chunk, a tus PATCH), for `describeRoute`'s `requestBody`. */
export const bytesBody = (mediaType: string, description: string, required = true) => ({
  description,
  required,
  content: { [mediaType]: { schema: BYTES } },
});

/** A request header the route reads, for `describeRoute`'s `parameters`. */
export const headerParam = (
  name: string,
  description: string,
  { required = true, schema = { type: "string" } }: { required?: boolean; schema?: Header["schema"] } = {},
) => ({ in: "header" as const, name, description, required, schema });

/**
 * The error answers a route may give, by status, each with the codes it
 * carries: statuses come from the catalogue (contracts/errors.ts), so a route
 * only names its codes. Spread into `responses`.
 */
export function errorResponses(...codes: ServerErrorCode[]) {
  const byStatus = new Map<number, ServerErrorCode[]>();
  for (const code of codes) byStatus.set(ERRORS[code], [...(byStatus.get(ERRORS[code]) ?? []), code]);
  return Object.fromEntries(
    [...byStatus].map(([status, listed]) => [
      String(status),
      {
        description: `\`${[...new Set(listed)].join("`, `")}\``,
        content: { "application/json": { schema: resolver(ErrorBodySchema) } },
      },
    ]),
  );
}

/**
 * A route that serves a file through storage/serve.ts: single `Range`
 * requests (206, or 416 outside the file), `ETag` / `If-None-Match` (304),
 * and HEAD. Spread into `describeRoute`; `codes` are the route's own refusals.
 */
export const servedFile = (mediaTypes: string[], description: string, ...codes: ServerErrorCode[]) => ({
  parameters: [
    headerParam("Range", "One byte range, `bytes=<start>-<end>`.", { required: false }),
    headerParam("If-None-Match", "The `ETag` of a copy the client holds.", { required: false }),
  ],
  responses: {
    200: bytesResponses(mediaTypes, description),
    206: bytesResponses(mediaTypes, "The range asked for.", {
      "Content-Range": header("`bytes <start>-<end>/<size>`."),
    }),
    304: emptyResponse("The copy the client holds is current."),
    ...errorResponses("range_not_satisfiable", ...codes),
  },
});

const bytesResponses = (mediaTypes: string[], description: string, headers?: ResponseHeaders) => ({
  description,
  ...(headers ? { headers } : {}),
  content: Object.fromEntries(mediaTypes.map((type) => [type, { schema: BYTES }])),
});

/** What `validJson` refuses (http/validate.ts), for any route with a JSON body. */
export const JSON_BODY_ERRORS = ["invalid_json", "invalid_request", "payload_too_large"] as const;
/** What every bearer credential's check refuses (http/auth.ts). */
export const TOKEN_ERRORS = ["missing_token", "invalid_token"] as const;

/** Any one of `requirements`, each naming schemes of `SECURITY_SCHEMES`; `{}` is no credential at all. */
const anyOf = (...requirements: Partial<Record<keyof typeof SECURITY_SCHEMES, []>>[]) =>
  requirements as SecurityRequirement[];

/** The credentials an operation takes, for `describeRoute`'s `security`. */
export const credentials = {
  /** Creating an upload: the uploader token, a direct upload's link, or nothing where the deployment allows anonymous uploads. */
  creator: anyOf({ uploaderToken: [] }, { directUpload: [] }, {}),
  /** The uploader token, or nothing where the deployment allows anonymous uploads. */
  uploader: anyOf({ uploaderToken: [] }, {}),
  /** The video's upload token. */
  uploadToken: anyOf({ uploadToken: [] }),
  /** A tus upload's URL is its capability; one created by our own API needs its upload token too. */
  tusUpload: anyOf({}, { uploadToken: [] }),
  /** The video's upload token, or the administrator's token. */
  owner: anyOf({ uploadToken: [] }, { adminToken: [] }),
  /** The administrator's token alone. */
  administrator: anyOf({ adminToken: [] }),
};

/** The credentials of `credentials`, for the document's `components.securitySchemes`. */
export const SECURITY_SCHEMES = {
  uploaderToken: {
    type: "http",
    scheme: "bearer",
    description:
      "The deployment's `UPLOADER_TOKEN`: creates uploads, imports and direct upload links; grants nothing over videos.",
  },
  uploadToken: {
    type: "http",
    scheme: "bearer",
    description:
      "A video's upload token, answered once when its upload or import is created: its owner's credential, for the upload API, its source, edits and deletion.",
  },
  adminToken: {
    type: "http",
    scheme: "bearer",
    description:
      "The deployment's `ADMIN_TOKEN`, the operator's: edits and deletes any video, sees what each stores, reads the event log and manages webhooks.",
  },
  directUpload: {
    type: "apiKey",
    in: "query",
    name: "direct",
    description:
      "A direct upload link's capability (`POST /api/direct-uploads`): creates that link's one video, from a browser that holds no credential.",
  },
} satisfies SecuritySchemes;

/**
 * Marks a `GET` route that serves only `HEAD` (Hono answers HEAD with the GET
 * route and drops the body): the document lists it as `head`. Spread into
 * `describeRoute`.
 */
export const HEAD_ONLY = { "x-reelay-head-only": true } as const;

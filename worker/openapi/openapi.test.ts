// GET /api/openapi.json against the routes the worker really serves: the
// document is read off the Hono app, so these tests compare it with the
// app's own route table both ways, and check that what it says about
// parameters, bodies, answers and errors comes from the contracts. (The
// document's validity against the OpenAPI 3.1 schema is checked in Node,
// test/e2e/openapi.test.ts: the validators compile code, which workerd forbids.)
import { env } from "cloudflare:test";
import { Hono } from "hono";
import { inspectRoutes } from "hono/dev";
import { describeRoute, resolver } from "hono-openapi";
import { describe, expect, it } from "vitest";
import { app } from "../app.ts";
import { SERVER_ERROR_CODES } from "../contracts/errors.ts";
import { VideoSchema } from "../contracts/video.ts";
import { PAGE_SECURITY_HEADERS } from "../http/security-headers.ts";
import { api, json } from "../testing/helpers.ts";
import { emptyResponse } from "./docs.ts";
import { openApiDocument } from "./document.ts";

type Operation = {
  operationId: string;
  tags?: string[];
  summary?: string;
  parameters?: { in: string; name: string; required?: boolean; schema?: Record<string, unknown> }[];
  requestBody?: { required?: boolean; content: Record<string, { schema: Record<string, unknown> }> };
  responses: Record<
    string,
    { $ref?: string; description?: string; content?: Record<string, { schema: Record<string, unknown> }> }
  >;
  security?: Record<string, string[]>[];
};
type Document = {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: {
    schemas: Record<string, { properties?: Record<string, any>; required?: string[] }>;
    securitySchemes: Record<string, unknown>;
    responses: Record<string, unknown>;
  };
};

const document = async () => json<Document>(await api("/api/openapi.json"));

/** Routes that are not the public API: the transcoder's protocol, the document itself, and the pages. */
const NOT_API = [
  /^\w+ \/internal\//,
  /^GET \/api\/openapi\.json$/,
  /^GET \/api\/docs$/,
  /^GET \/watch\/\{id\}$/,
  /^GET \/embed\/\{id\}$/,
];

/** `METHOD /path/{param}` of every route the app serves, middleware and catch-alls aside. */
function servedRoutes(): Set<string> {
  return new Set(
    inspectRoutes(app)
      .filter((r) => !r.isMiddleware && r.method !== "ALL")
      .map((r) => `${r.method} ${r.path.replace(/:(\w+)(\{[^}]*\})?\??/g, "{$1}")}`)
      .filter((route) => !NOT_API.some((re) => re.test(route))),
  );
}

const operations = (doc: Document) =>
  Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => ({ path, method: method.toUpperCase(), op })),
  );

describe("GET /api/openapi.json", () => {
  it("documents every route the worker serves, and no route it does not", async () => {
    const doc = await document();
    expect(doc.openapi).toBe("3.1.0");
    const served = servedRoutes();
    // Hono answers HEAD with a GET route; OPTIONS is answered by the CORS middleware, on any path.
    const documented = new Set(
      operations(doc)
        .filter(({ method }) => method !== "OPTIONS")
        .map(({ path, method }) => `${method === "HEAD" ? "GET" : method} ${path}`),
    );
    expect(
      [...served].filter((route) => !documented.has(route)),
      "served but not documented",
    ).toEqual([]);
    expect(
      [...documented].filter((route) => !served.has(route)),
      "documented but not served",
    ).toEqual([]);
    expect(served.size).toBeGreaterThan(20);
  });

  it("documents OPTIONS and HEAD only where they are answered so", async () => {
    const doc = await document();
    const special = operations(doc).filter(({ method }) => method === "OPTIONS" || method === "HEAD");
    expect(special.map(({ path, method }) => `${method} ${path}`).sort()).toEqual([
      "HEAD /api/tus/{videoId}",
      "OPTIONS /api/tus",
    ]);
    const options = await api("/api/tus", { method: "OPTIONS" });
    expect(options.status).toBe(204);
    expect(options.headers.get("tus-version")).toBe("1.0.0");
    // The HEAD-only route refuses a GET.
    const get = await api("/api/tus/0123456789abcdefghjk", { headers: { "tus-resumable": "1.0.0" } });
    expect(get.status).toBe(405);
  });

  it("gives every operation a unique id, a tag, a summary, a success and the error shape for its failures", async () => {
    const doc = await document();
    const ids = operations(doc).map(({ op }) => op.operationId);
    expect(
      ids.filter((id, i) => ids.indexOf(id) !== i),
      "repeated operation ids",
    ).toEqual([]);
    const problems = operations(doc).flatMap(({ path, method, op }) => {
      const where = `${method} ${path}`;
      const statuses = Object.keys(op.responses);
      return [
        ...(op.tags?.length ? [] : [`${where}: no tag`]),
        ...(op.summary ? [] : [`${where}: no summary`]),
        ...(statuses.some((s) => /^2\d\d$/.test(s) && op.responses[s]!.description) ? [] : [`${where}: no success`]),
        ...(op.responses.default?.$ref === "#/components/responses/Failure" ? [] : [`${where}: no default`]),
        // A HEAD answer has no body; any other failure is the error shape.
        ...(method === "HEAD" ? statuses.filter((s) => op.responses[s]!.content) : []).map(
          (s) => `${where}: ${s} has a body`,
        ),
        ...statuses
          .filter((s) => method !== "HEAD" && /^[45]\d\d$/.test(s))
          .filter((s) => op.responses[s]!.content?.["application/json"]?.schema?.$ref !== "#/components/schemas/Error")
          .map((s) => `${where}: ${s} is not the error shape`),
      ];
    });
    expect(problems).toEqual([]);
  });

  it("lists every error code a server sends in the error shape, and no client-side code", async () => {
    const { components } = await document();
    const error = components.schemas.Error!;
    expect(error.required).toEqual(["error"]);
    const body = error.properties!.error;
    expect(body.required).toEqual(["code", "message"]);
    expect(body.properties.code.enum).toEqual(SERVER_ERROR_CODES);
    expect(body.properties.code.enum).toContain("checksum_mismatch");
    expect(body.properties.code.enum).not.toContain("network_error");
  });

  it("documents parameters, bodies and answers from the schemas that validate and describe them", async () => {
    const { paths, components } = await document();
    // The query's own schema: `limit` is digits, read as 1..100.
    const list = paths["/api/videos"]!.get!;
    const limit = list.parameters!.find((p) => p.in === "query" && p.name === "limit")!;
    expect(limit.schema).toMatchObject({ type: "string", pattern: "^[0-9]{1,15}$" });
    expect(list.responses["200"]!.content!["application/json"]!.schema).toEqual({
      $ref: "#/components/schemas/VideoPage",
    });
    // A path parameter by its contract schema.
    const video = paths["/api/videos/{id}"]!.get!;
    expect(video.parameters).toContainEqual(
      expect.objectContaining({
        in: "path",
        name: "id",
        required: true,
        schema: { $ref: "#/components/schemas/VideoId" },
      }),
    );
    expect(components.schemas.Video!.required).toEqual(expect.arrayContaining(["id", "status", "playback"]));
    // A body by the create schema: required fields, and the default deployment's size limit.
    const create = paths["/api/uploads"]!.post!;
    const body = create.requestBody!.content["application/json"]!.schema as {
      required: string[];
      properties: Record<string, Record<string, unknown>>;
    };
    expect(body.required).toEqual(["filename", "size", "contentType"]);
    expect(body.properties.size).toMatchObject({ type: "integer", minimum: 1, maximum: 50 * 1024 ** 3 });
    expect(create.security).toEqual([{ uploaderToken: [] }, { directUpload: [] }, {}]);
    // The chunk route: its index, its digest header and its bytes.
    const chunk = paths["/api/uploads/{videoId}/chunks/{n}"]!.put!;
    expect(chunk.parameters!.map((p) => `${p.in} ${p.name}`).sort()).toEqual([
      "header Content-Digest",
      "path n",
      "path videoId",
    ]);
    expect(Object.keys(chunk.requestBody!.content)).toEqual(["application/octet-stream"]);
    expect(Object.keys(chunk.responses)).toEqual(expect.arrayContaining(["200", "400", "401", "404", "409", "422"]));
  });

  it("declares every credential it names, and resolves every reference", async () => {
    const doc = await document();
    for (const { op } of operations(doc)) {
      for (const requirement of op.security ?? []) {
        for (const scheme of Object.keys(requirement)) expect(doc.components.securitySchemes).toHaveProperty(scheme);
      }
    }
    const refs = JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/(\w+)\/([^"]+)"/g);
    for (const [, kind, name] of refs) {
      expect((doc.components as Record<string, Record<string, unknown>>)[kind!], `${kind}/${name}`).toHaveProperty(
        name!,
      );
    }
  });
});

describe("openApiDocument", () => {
  it("adds operations and webhooks no route carries, resolving their schemas as for routes", async () => {
    const small = new Hono<{ Bindings: Env }>();
    small.get("/x", describeRoute({ tags: ["t"], summary: "x", responses: { 204: emptyResponse("Nothing.") } }), (c) =>
      c.body(null, 204),
    );
    small.get(
      "/doc",
      openApiDocument(small, {
        paths: { "/x": { options: { summary: "y", responses: { 204: emptyResponse("Options.") } } } },
        webhooks: {
          "video.ready": {
            post: {
              requestBody: {
                content: { "application/json": { schema: resolver(VideoSchema, { options: { io: "output" } }) } },
              },
              responses: { 200: emptyResponse("Received.") },
            },
          },
        },
      }),
    );
    const doc = await json((await small.request("/doc", {}, env)) as Response);
    expect(Object.keys(doc.paths["/x"]).sort()).toEqual(["get", "options"]);
    expect(doc.webhooks["video.ready"].post.requestBody.content["application/json"].schema).toEqual({
      $ref: "#/components/schemas/Video",
    });
    expect(doc.components.schemas.Video.required).toContain("playback");
    expect(doc.components.schemas).toHaveProperty("VideoId");
  });
});

describe("GET /api/docs", () => {
  it("is an HTML page under the pages' CSP that loads only its own scripts, none inline", async () => {
    const res = await api("/api/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(res.headers.get("content-security-policy")).toBe(PAGE_SECURITY_HEADERS["Content-Security-Policy"]);
    const html = await res.text();
    const scripts = [...html.matchAll(/<script([^>]*)>/g)].map((m) => m[1]);
    expect(scripts.length).toBeGreaterThan(0);
    for (const attributes of scripts) expect(attributes).toMatch(/ src="\/[^/]/);
    expect(html).toContain('data-url="/api/openapi.json"');
  });
});

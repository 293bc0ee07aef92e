// The OpenAPI document as the real stack (`npm start`) serves it: valid
// OpenAPI 3.1 by a standard validator (which compiles JSON Schema to code, so
// it runs here in Node rather than in workerd), naming every error code a
// client can meet, and describing paths the worker really routes.
// worker/openapi/openapi.test.ts compares it with the Hono route table.
import { compileErrors, validate } from "@readme/openapi-parser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SERVER_ERROR_CODES, type ServerErrorCode } from "../../worker/contracts/errors.ts";
import { startStack, type Stack } from "../stack.ts";

type Operation = { responses: Record<string, { description?: string; $ref?: string }> };
type Document = {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: {
    schemas: Record<string, any>;
    responses: Record<string, { description: string }>;
  };
};

/** Codes only the transcoder's storage protocol (/internal, not in the document) answers. */
const TRANSCODER_CODES: ServerErrorCode[] = [
  "job_superseded",
  "invalid_path",
  "length_required",
  "job_mismatch",
  "transcoder_busy",
  "shutting_down",
];

let stack: Stack;
let doc: Document;

beforeAll(async () => {
  stack = await startStack();
  const res = await fetch(`${stack.url}/api/openapi.json`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toContain("application/json");
  doc = (await res.json()) as Document;
});

afterAll(async () => {
  await stack?.stop();
});

describe("GET /api/openapi.json on the real stack", () => {
  it("is an OpenAPI 3.1 document that passes @readme/openapi-parser without errors or warnings", async () => {
    expect(doc.openapi).toBe("3.1.0");
    // The parser dereferences what it is given: hand it a copy.
    const result = await validate(structuredClone(doc) as never);
    expect(result.valid, result.valid ? "" : compileErrors(result)).toBe(true);
    expect(result.warnings).toEqual([]);
  });

  it("lists every code a server sends in its error shape, and names each a client can meet on some answer", () => {
    const codes = doc.components.schemas.Error.properties.error.properties.code.enum;
    expect(codes).toEqual(SERVER_ERROR_CODES);
    const described = [
      ...Object.values(doc.paths).flatMap((item) =>
        Object.values(item).flatMap((op) => Object.values(op.responses).map((r) => r.description ?? "")),
      ),
      ...Object.values(doc.components.responses).map((r) => r.description),
    ].join("\n");
    const unnamed = SERVER_ERROR_CODES.filter(
      (code) => !TRANSCODER_CODES.includes(code) && !described.includes(`\`${code}\``),
    );
    expect(unnamed).toEqual([]);
  });

  it("describes paths the worker routes: none answers as an unknown path", async () => {
    const example: Record<string, string> = {
      id: "0123456789abcdefghjk",
      videoId: "0123456789abcdefghjk",
      job: "j000000",
      file: "poster.jpg",
      n: "1",
    };
    const missed: string[] = [];
    for (const [path, item] of Object.entries(doc.paths)) {
      const url = stack.url + path.replace(/\{(\w+)\}/g, (_, name: string) => example[name] ?? "x");
      for (const method of Object.keys(item)) {
        const res = await fetch(url, { method: method.toUpperCase(), redirect: "manual" });
        const body = res.status === 404 ? await res.json().catch(() => null) : await res.body?.cancel();
        // The catch-all's answer; a route's own 404 names what it looked for ("No such video.").
        if ((body as { error?: { message?: string } } | null)?.error?.message === "No such resource.") {
          missed.push(`${method.toUpperCase()} ${path}`);
        }
      }
    }
    expect(missed).toEqual([]);
  });
});

/**
 * The assertion for an error answer, for tests in Node and in workerd alike
 * (it needs only `Response` and vitest): the status the README promises and a
 * code from the catalogue, so a code that is not in worker/contracts/errors.ts
 * does not compile.
 */
import { expect } from "vitest";
import type { ErrorBody, ErrorCode } from "../worker/contracts/errors.ts";

/** Asserts `{ error: { code, message } }` with this status and code; returns the error for its details. */
export async function expectError(
  res: Response | Promise<Response>,
  status: number,
  code: ErrorCode,
): Promise<ErrorBody["error"]> {
  const r = await res;
  const body = (await r.json()) as ErrorBody;
  expect({ status: r.status, body }).toMatchObject({
    status,
    body: { error: { code, message: expect.any(String) } },
  });
  return body.error;
}

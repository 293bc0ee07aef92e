/**
 * The one error shape of the API: `{ error: { code, message, ...details } }`.
 * Codes and their statuses are the catalogue in contracts/errors.ts; this
 * file only turns them into responses.
 */
import type { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { ERRORS, type ErrorBody, type ServerErrorCode } from "../contracts/errors.ts";
import type { Refusal } from "../video-object/outcome.ts";

/** An expected failure; its status is the one the catalogue gives its code. */
export class ApiError extends Error {
  readonly code: ServerErrorCode;
  readonly details: Record<string, unknown>;
  constructor(code: ServerErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.code = code;
    this.details = details;
  }

  get status(): ContentfulStatusCode {
    return ERRORS[this.code] as ContentfulStatusCode;
  }

  body(): ErrorBody {
    return { error: { ...this.details, code: this.code, message: this.message } };
  }

  toResponse(headers?: HeadersInit): Response {
    return Response.json(this.body(), { status: this.status, headers });
  }
}

export const apiError = (code: ServerErrorCode, message: string, details?: Record<string, unknown>) =>
  new ApiError(code, message, details);

/**
 * The codes of the refusals Hono itself may throw as `HTTPException` (its
 * validators, body limits, routing), by status; any other 4xx is `bad_request`.
 */
const HTTP_EXCEPTION_CODES: Partial<Record<number, ServerErrorCode>> = {
  404: "not_found",
  405: "method_not_allowed",
  413: "payload_too_large",
  416: "range_not_satisfiable",
};

/** A client error Hono threw, as the catalogue error of its status. */
export const fromHttpException = (err: HTTPException): ApiError =>
  apiError(HTTP_EXCEPTION_CODES[err.status] ?? "bad_request", err.message || "Bad request.");

/** The success of a Durable Object's outcome, or its refusal thrown as an `ApiError`. */
export function unwrap<O extends { ok: boolean }>(outcome: O): Exclude<O, { ok: false }> {
  if (outcome.ok) return outcome as Exclude<O, { ok: false }>;
  const refusal = outcome as unknown as Refusal;
  throw new ApiError(refusal.code, refusal.message, refusal.details);
}

/**
 * The one error shape of the API: `{ error: { code, message, ...details } }`.
 * Codes are stable strings documented in the README; clients branch on them.
 */
import type { ContentfulStatusCode } from "hono/utils/http-status";

export type ErrorBody = {
  error: { code: string; message: string; [detail: string]: unknown };
};

/** An expected failure that maps to a 4xx (or a deliberate 5xx) response. */
export class ApiError extends Error {
  readonly status: ContentfulStatusCode;
  readonly code: string;
  readonly details: Record<string, unknown>;
  constructor(status: ContentfulStatusCode, code: string, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }

  body(): ErrorBody {
    return { error: { ...this.details, code: this.code, message: this.message } };
  }

  toResponse(headers?: HeadersInit): Response {
    return Response.json(this.body(), { status: this.status, headers });
  }
}

export const apiError = (
  status: ContentfulStatusCode,
  code: string,
  message: string,
  details?: Record<string, unknown>,
) => new ApiError(status, code, message, details);

/**
 * A refusal that crosses a Durable Object RPC boundary. Thrown errors lose
 * their class and fields over RPC, so coordinators return this plain object
 * and the route turns it into an `ApiError` with `unwrap`.
 */
export type Refusal = {
  ok: false;
  status: 400 | 401 | 403 | 404 | 409 | 413 | 422;
  code: string;
  message: string;
  details?: Record<string, unknown>;
};

export type Outcome<T extends object> = ({ ok: true } & T) | Refusal;

export const refuse = (
  status: Refusal["status"],
  code: string,
  message: string,
  details?: Record<string, unknown>,
): Refusal => ({ ok: false, status, code, message, details });

/** The success of an outcome, or the refusal thrown as an `ApiError`. */
export function unwrap<O extends { ok: boolean }>(outcome: O): Exclude<O, { ok: false }> {
  if (outcome.ok) return outcome as Exclude<O, { ok: false }>;
  const refusal = outcome as unknown as Refusal;
  throw new ApiError(refusal.status, refusal.code, refusal.message, refusal.details);
}

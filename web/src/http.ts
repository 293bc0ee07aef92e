/**
 * The one way web code talks to Reelay: the pages' API calls and the upload
 * client (in browsers and in the Node CLI) send every request through
 * `request`, and every failure is an `ApiError` carrying a code from the
 * catalogue in worker/contracts/errors.ts. Web-standard `fetch` only, and
 * injectable. One attempt per call: retrying is the caller's policy.
 */
import { ERRORS, type ErrorCode, errorCodeOf } from "../../worker/contracts/errors.ts";

type ApiErrorInit = {
  /** The answer's HTTP status; without an answer, the catalogue's status for the code. */
  status?: number;
  /** The error body's other fields, e.g. `missing` of `missing_chunks`. */
  details?: Record<string, unknown>;
  /** Seconds the server asked to wait before trying again (`Retry-After`). */
  retryAfterSec?: number;
  cause?: unknown;
};

/** A request that failed: refused by the server, or raised by the client (`network_error`, `http_error`, …). */
export class ApiError extends Error {
  /** The answer's HTTP status; 0 for codes only clients raise, such as `network_error`. */
  readonly status: number;
  /** What went wrong; branch on this, never on the status alone (409 has many meanings). */
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;
  readonly retryAfterSec?: number;
  constructor(code: ErrorCode, message: string, init: ApiErrorInit = {}) {
    super(message, { cause: init.cause });
    this.name = "ApiError";
    this.code = code;
    this.status = init.status ?? ERRORS[code];
    this.details = init.details ?? {};
    this.retryAfterSec = init.retryAfterSec;
  }
}

export type RequestSpec = {
  method?: string;
  /** Sent as `Authorization: Bearer …`: an upload token, or the uploader credential (`UPLOADER_TOKEN`) to create uploads. */
  token?: string;
  /** A JSON body; `body` is sent as is instead. */
  json?: unknown;
  body?: BodyInit;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  fetch?: typeof fetch;
};

/**
 * One request; resolves to the JSON answer (`undefined` for 204) or throws an
 * `ApiError`. An abort is rethrown as it came, so callers can tell a pause
 * from a failure.
 */
export async function request<T>(url: string, spec: RequestSpec = {}): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json", ...spec.headers };
  if (spec.token) headers.authorization = `Bearer ${spec.token}`;
  if (spec.json !== undefined) headers["content-type"] = "application/json";
  const send = spec.fetch ?? globalThis.fetch.bind(globalThis);
  let res: Response;
  try {
    res = await send(url, {
      method: spec.method ?? "GET",
      headers,
      body: spec.json === undefined ? spec.body : JSON.stringify(spec.json),
      signal: spec.signal,
    });
  } catch (err) {
    if (spec.signal?.aborted || isAbort(err)) throw err;
    throw new ApiError("network_error", "Could not reach Reelay. Check your connection and try again.", {
      cause: err,
    });
  }
  if (res.status === 204) return undefined as T;
  // A proxy or a crash may answer with something else than JSON.
  const body: unknown = await res.json().catch(() => null);
  if (!res.ok) throw refusal(res, body);
  return body as T;
}

function refusal(res: Response, body: unknown): ApiError {
  const { code: _, message, ...details } = (body as { error?: Record<string, unknown> } | null)?.error ?? {};
  return new ApiError(errorCodeOf(body), typeof message === "string" ? message : `The server answered ${res.status}.`, {
    status: res.status,
    details,
    retryAfterSec: Number(res.headers.get("retry-after")) || undefined,
  });
}

export function isAbort(err: unknown): boolean {
  return err instanceof DOMException && err.name === "AbortError";
}

/**
 * Every error code Reelay answers with, and the HTTP status each one always
 * has. Errors travel as `{ error: { code, message, ...details } }`; clients
 * branch on `code` (never on the status alone: 409 has many meanings) and
 * show `message`, which is written for people. Plain values, no zod, so the
 * pages can import it.
 */

export const ERRORS = {
  // The request itself is malformed.
  bad_request: 400,
  invalid_json: 400,
  /** A field breaks its rule; `issues` lists each. */
  invalid_request: 400,
  /** `n` is not 1..`totalChunks`. */
  invalid_chunk_index: 400,
  missing_digest: 400,
  invalid_digest: 400,
  /** The body is not exactly the chunk's size (`expectedBytes`). */
  wrong_length: 400,
  /** A cursor this API did not give out, or one for another sort. */
  invalid_cursor: 400,
  // Credentials.
  missing_token: 401,
  invalid_token: 401,
  not_found: 404,
  method_not_allowed: 405,
  // The request is fine but the video's state refuses it.
  upload_exists: 409,
  /** The upload is completed, aborted or expired (`status`). */
  upload_closed: 409,
  /** Completion before every chunk arrived (`missing`). */
  missing_chunks: 409,
  /** Another request is storing that chunk; retry after `retryAfter` seconds. */
  chunk_in_progress: 409,
  /** A later request for the same chunk took it over; its result stands. */
  chunk_superseded: 409,
  /** The chunk is already stored with other content (`stored`). */
  chunk_conflict: 409,
  /** Abort after completion. */
  upload_completed: 409,
  /** The source is asked for before completion (`status`). */
  source_unavailable: 409,
  /** A playlist is asked for before the video is playable (`status`). */
  not_ready: 409,
  /** A stored file changed while it was being read: retry. */
  changed: 409,
  payload_too_large: 413,
  /**
   * The file's declared type says it is not a video (an audio file, an image):
   * the message is the reason the transcoder would give (vocabulary.ts SOURCE_REASONS).
   */
  not_a_video: 415,
  range_not_satisfiable: 416,
  /** The bytes do not match `Content-Digest`; nothing was kept (`expected`, `actual`). */
  digest_mismatch: 422,
  internal_error: 500,

  // Uploads and credentials (issue 10).
  /** Creating uploads needs a token this deployment has not configured. */
  uploads_disabled: 403,
  /** Too many uploads created from this client just now; retry after `Retry-After` seconds. */
  rate_limited: 429,
  /** This client's unfinished uploads already reserve too many bytes (`reservedBytes`, `limitBytes`). */
  upload_quota_exceeded: 429,
  /** A chunk request sent no byte for too long; its chunk is free again. */
  request_timeout: 408,

  // tus, direct creator uploads and imports (issue 12).
  /** A tus request without `Tus-Resumable: 1.0.0`. */
  tus_version_unsupported: 412,
  /** A tus PATCH whose `Content-Type` is not `application/offset+octet-stream`. */
  wrong_content_type: 415,
  /** A tus PATCH at another `Upload-Offset` than the upload's (`offset`). */
  offset_mismatch: 409,
  /** `Upload-Checksum` names an algorithm other than `sha256`, `sha1` or `md5`, or is malformed. */
  unsupported_checksum: 400,
  /** The body does not match `Upload-Checksum`; nothing of the request was kept. */
  checksum_mismatch: 460,
  /** The upload was terminated or expired (`status`). */
  upload_gone: 410,
  /** A direct upload used after `expiresAt`. */
  direct_upload_expired: 410,
  /** A direct upload already created its one video. */
  direct_upload_used: 409,
  /** A direct upload used from another origin than the one it allows. */
  origin_not_allowed: 403,
  /** An import URL that is not https (or http, where the deployment allows it). */
  invalid_url: 400,

  // Captions (issue 14).
  /** A caption file that is neither valid WebVTT nor SRT; `line` names where it broke. */
  invalid_captions: 400,

  // Events and webhooks (issue 13).
  /** A test sent to a disabled webhook. */
  webhook_disabled: 409,

  // Media people expect (issue 14).
  /** The owner does not allow downloads of this video (`PATCH … { downloadable: true }` does). */
  downloads_disabled: 403,
  /** The downloads could not be made (`reason`); the video still plays. `PATCH … { downloadable: true }` tries again. */
  downloads_failed: 409,

  // Share and protect (issue 15).
  /** A private video's media, or its description, asked for without a playback token (`?token=`). */
  playback_token_required: 401,
  /** A playback token that does not open this video (`reason`: malformed, invalid, revoked, expired). */
  playback_token_invalid: 403,
  /** Private videos cannot be played: the deployment has no `PLAYBACK_SIGNING_KEY`. */
  private_playback_unavailable: 403,

  // Between the Worker and the transcoder.
  /** The job is no longer the video's current job: the transcoder stops it and sends nothing more. */
  job_superseded: 409,
  /** An output path that is not a job output. */
  invalid_path: 400,
  /** An output PUT without `Content-Length`. */
  length_required: 400,
  /** An event naming another job than its URL. */
  job_mismatch: 400,
  /** Every transcoder slot is taken; the Worker offers the job again later. */
  transcoder_busy: 503,
  /** The transcoder is stopping and takes no new job. */
  shutting_down: 503,

  // Raised by clients, never sent by a server.
  /** The server could not be reached. */
  network_error: 0,
  /** The server answered without Reelay's error body (a proxy, a crash). */
  http_error: 0,
  /** A resumed upload was given another file than it started with (`expectedBytes`, `actualBytes`). */
  file_mismatch: 0,
} as const;

export type ErrorCode = keyof typeof ERRORS;

/** The codes a server sends: every code but the clients' own. */
export type ServerErrorCode = { [K in ErrorCode]: (typeof ERRORS)[K] extends 0 ? never : K }[ErrorCode];

/** Every code a server sends, in catalogue order: the `code` of the API's error shape (error-body.ts). */
export const SERVER_ERROR_CODES = (Object.keys(ERRORS) as ErrorCode[]).filter(
  (code): code is ServerErrorCode => ERRORS[code] !== 0,
);

export type ErrorBody = {
  error: { code: ErrorCode; message: string; [detail: string]: unknown };
};

export const isErrorCode = (value: unknown): value is ErrorCode =>
  typeof value === "string" && Object.hasOwn(ERRORS, value);

/**
 * The code of an error answer's body, read defensively: `http_error` when
 * the body is not ours (a proxy's HTML page, an empty 502).
 */
export function errorCodeOf(body: unknown): ErrorCode {
  const code = (body as { error?: { code?: unknown } } | null)?.error?.code;
  return isErrorCode(code) ? code : "http_error";
}

/**
 * Who may call what, as middleware that answers 401 `missing_token` or
 * `invalid_token`, and leaves on the context what the handler needs of the
 * caller (`c.var.token`, `c.var.claims`):
 * - `uploader`: creating an upload, when `UPLOADER_TOKEN` is set;
 * - `creator`: creating an upload with a direct upload's capability
 *   (`?direct=`), or as the uploader;
 * - `uploadToken`: the upload API and the source download; the video's
 *   object checks the token;
 * - `owner`: editing, deleting a video: its upload token, or the
 *   administrator's `ADMIN_TOKEN`;
 * - `administrator`: what only the operator sees (what a video stores).
 *
 * The two deployment credentials are kept apart: the one a script or a
 * trusted uploader holds to create uploads grants nothing over videos, so
 * leaking it cannot cost anyone their videos.
 * - `jobToken`: the transcoder's storage protocol, by signed job token.
 */
import { createMiddleware } from "hono/factory";
import { readConfig } from "../config.ts";
import { safeEqual } from "../crypto/tokens.ts";
import { type JobClaims, verifyJobToken } from "../contracts/job-token.ts";
import { parseDirectCapability } from "../uploads/direct-capability.ts";
import type { Requester } from "../uploads/creation.ts";
import { videoObject } from "../video-object/stub.ts";
import { apiError, unwrap } from "./errors.ts";

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer[ \t]+([A-Za-z0-9._~+/=-]{1,512})[ \t]*$/i.exec(header ?? "");
  return match?.[1];
}

/** The bearer token presented, or 401 `missing_token` saying which token to send. */
function presentedToken(header: string | undefined, hint: string): string {
  const token = bearerToken(header);
  if (token === undefined) throw apiError("missing_token", hint);
  return token;
}

const UPLOAD_TOKEN_HINT = "Send the upload token as `Authorization: Bearer <uploadToken>`.";

/**
 * The upload token on `c.var.token`. Only the video's object can tell
 * whether it is that video's, so the route passes it on with every call.
 */
export const uploadToken = createMiddleware<{ Variables: { token: string } }>(async (c, next) => {
  c.set("token", presentedToken(c.req.header("authorization"), UPLOAD_TOKEN_HINT));
  await next();
});

/**
 * Who may create uploads. With `UPLOADER_TOKEN` set, only its holder; without
 * it, anyone, unless the deployment said uploads need a token
 * (`ALLOW_ANONYMOUS_UPLOADS = "false"`) and none is set: then nobody, rather
 * than everybody.
 */
export const uploader = createMiddleware<{ Bindings: Env }>(async (c, next) => {
  await checkUploader(c.env, c.req.header("authorization"));
  await next();
});

async function checkUploader(env: Env, authorization: string | undefined): Promise<void> {
  const { uploaderToken, anonymousUploads } = readConfig(env);
  if (uploaderToken !== undefined) {
    const token = presentedToken(authorization, "Creating an upload needs `Authorization: Bearer <UPLOADER_TOKEN>`.");
    if (!(await safeEqual(token, uploaderToken))) throw apiError("invalid_token", "The uploader token is not valid.");
  } else if (anonymousUploads === "false") {
    throw apiError(
      "uploads_disabled",
      "This deployment takes uploads only with a token, and none is configured (UPLOADER_TOKEN).",
    );
  }
}

/**
 * Who may create an upload: the holder of a direct creator upload's
 * capability (`?direct=<capability>`, whose video's object checks it), or
 * else the `uploader`. The capability, if any, is left on `c.var.direct`.
 */
export const creator = createMiddleware<{ Bindings: Env; Variables: { direct: Requester["direct"] } }>(
  async (c, next) => {
    const capability = c.req.query("direct");
    if (capability === undefined) await checkUploader(c.env, c.req.header("authorization"));
    else {
      const parsed = parseDirectCapability(capability);
      if (!parsed) throw apiError("invalid_token", "This direct upload link is not valid.");
      c.set("direct", { ...parsed, requestOrigin: c.req.header("origin") ?? null });
    }
    await next();
  },
);

/**
 * The owner of the video named by the validated `:id` (its upload token) or
 * the administrator (`ADMIN_TOKEN`); 401 otherwise, 404 when there is no such
 * video. The uploader token is neither.
 */
export const owner = createMiddleware<{ Bindings: Env }, string, { out: { param: { id: string } } }>(
  async (c, next) => {
    const token = presentedToken(c.req.header("authorization"), UPLOAD_TOKEN_HINT);
    const { adminToken } = readConfig(c.env);
    const isAdmin = adminToken !== undefined && (await safeEqual(token, adminToken));
    if (!isAdmin) unwrap(await videoObject(c.env, c.req.valid("param").id).authorizeOwner(token));
    await next();
  },
);

/**
 * Whether the request's bearer token is the video's owner's or the
 * administrator's: for answers that only say more to them (a private video's
 * description), never refusing anyone.
 */
export async function isOwnerOrAdministrator(env: Env, videoId: string, header: string | undefined): Promise<boolean> {
  const token = bearerToken(header);
  if (token === undefined) return false;
  const { adminToken } = readConfig(env);
  if (adminToken !== undefined && (await safeEqual(token, adminToken))) return true;
  return (await videoObject(env, videoId).authorizeOwner(token)).ok;
}

/** The administrator (`ADMIN_TOKEN`) alone; without ADMIN_TOKEN nobody passes, rather than everybody. */
export const administrator = createMiddleware<{ Bindings: Env }>(async (c, next) => {
  const token = presentedToken(
    c.req.header("authorization"),
    "Send the administrator's token as `Authorization: Bearer <ADMIN_TOKEN>`.",
  );
  const { adminToken } = readConfig(c.env);
  if (adminToken === undefined) throw apiError("invalid_token", "This deployment has no ADMIN_TOKEN.");
  if (!(await safeEqual(token, adminToken))) throw apiError("invalid_token", "The administrator's token is not valid.");
  await next();
});

/**
 * The claims of a valid job token for the `:jobId` of the path, on
 * `c.var.claims`. Without a transcoder secret the protocol does not exist.
 */
export const jobToken = createMiddleware<{ Bindings: Env; Variables: { claims: JobClaims } }>(async (c, next) => {
  const secret = readConfig(c.env).transcoderSecret;
  if (!secret) throw apiError("not_found", "No such resource.");
  const token = bearerToken(c.req.header("authorization"));
  const claims = token ? await verifyJobToken(secret, token) : undefined;
  if (!claims || claims.jobId !== c.req.param("jobId"))
    throw apiError("invalid_token", "A valid job token is required.");
  c.set("claims", claims);
  await next();
});

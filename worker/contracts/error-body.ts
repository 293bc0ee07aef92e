/**
 * The API's one error shape as a schema, for the OpenAPI document: every
 * failure is `{ error: { code, message, ...details } }` with a code a server
 * sends (errors.ts). errors.ts itself stays free of zod so the pages can
 * import it.
 */
import { z } from "zod";
import { SERVER_ERROR_CODES, type ServerErrorCode } from "./errors.ts";

export const ErrorBodySchema = z
  .object({
    error: z
      .object({
        /** What went wrong; its HTTP status is always the same (errors.ts). Branch on this. */
        code: z.enum(SERVER_ERROR_CODES as [ServerErrorCode, ...ServerErrorCode[]]),
        /** Written for people: show it as it comes. */
        message: z.string(),
      })
      // Details some codes carry: `issues` of invalid_request, `missing` of missing_chunks, `retryAfter`, …
      .catchall(z.unknown()),
  })
  .meta({ id: "Error", description: "Every failure, whatever its status." });

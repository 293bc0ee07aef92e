/**
 * What the video's Durable Object answers: a success, or a refusal naming a
 * code from the error catalogue. Errors thrown across a Durable Object RPC
 * lose their class and fields, so the object returns refusals as plain values
 * and the route layer turns them into HTTP (`unwrap` in http/errors.ts).
 */
import type { ServerErrorCode } from "../contracts/errors.ts";

export type Refusal = {
  ok: false;
  code: ServerErrorCode;
  message: string;
  details?: Record<string, unknown>;
};

export type Outcome<T extends object> = ({ ok: true } & T) | Refusal;

export const refuse = (code: ServerErrorCode, message: string, details?: Record<string, unknown>): Refusal => ({
  ok: false,
  code,
  message,
  details,
});

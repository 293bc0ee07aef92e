/**
 * Keyset cursors: the sort key and id of the last item of a page, opaque to
 * clients (base64url JSON). Keyset rather than offset so that videos arriving
 * while someone pages never shift the pages they have not seen yet.
 */
import { z } from "zod";
import { SORTS, type Sort } from "../contracts/vocabulary.ts";
import { base64url, fromBase64url } from "../crypto/encoding.ts";
import { apiError } from "../http/errors.ts";

const CursorSchema = z.tuple([z.enum(SORTS), z.number(), z.string().max(40)]);
export type Cursor = { sort: Sort; key: number; id: string };

export function encodeCursor(c: Cursor): string {
  return base64url(new TextEncoder().encode(JSON.stringify([c.sort, c.key, c.id])));
}

export function decodeCursor(raw: string, sort: Sort): Cursor {
  let parsed: z.infer<typeof CursorSchema>;
  try {
    const json = new TextDecoder().decode(fromBase64url(raw));
    parsed = CursorSchema.parse(JSON.parse(json));
  } catch {
    throw apiError("invalid_cursor", "The cursor is not one this API gave out.");
  }
  if (parsed[0] !== sort) throw apiError("invalid_cursor", "The cursor belongs to another sort order.");
  return { sort: parsed[0], key: parsed[1], id: parsed[2] };
}

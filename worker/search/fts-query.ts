/**
 * Turns what a person typed into a safe FTS5 query. Raw user text would be
 * FTS5 syntax (`AND`, `NEAR(`, `*`, `"`, `col:x` all mean something), so we
 * keep only runs of letters, digits and combining marks, quote each one and
 * make it a prefix: `sun rise` → `"sun"* "rise"*` (every word must match).
 */

import { escapeHtml } from "../contracts/html.ts";

/** Words beyond this many are ignored: they cannot narrow a title search further in practice. */
const MAX_TERMS = 12;

export function ftsQuery(text: string): string | undefined {
  const words = text.normalize("NFC").match(/[\p{L}\p{N}\p{M}]+/gu) ?? [];
  if (words.length === 0) return undefined;
  // Quoting is belt and braces: the words cannot contain a quote.
  return words
    .slice(0, MAX_TERMS)
    .map((w) => `"${w.replace(/"/g, '""')}"*`)
    .join(" ");
}

/** FTS5 highlight markers (control characters never appear in titles or descriptions). */
export const MARK_OPEN = "\u0001";
export const MARK_CLOSE = "\u0002";

/** HTML-escapes `text` and turns the FTS5 markers into `<mark>` elements. */
export function markHtml(text: string): string {
  return escapeHtml(text).replaceAll(MARK_OPEN, "<mark>").replaceAll(MARK_CLOSE, "</mark>");
}

/**
 * Single-range `Range: bytes=…` parsing (RFC 9110 §14). Multiple ranges are
 * answered with the whole body, which the RFC allows and players never ask for.
 */

export type ByteRange = { offset: number; length: number };

export type RangeParse = { kind: "none" } | { kind: "range"; range: ByteRange } | { kind: "unsatisfiable" };

export function parseRange(header: string | undefined | null, size: number): RangeParse {
  if (!header) return { kind: "none" };
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === "" && m[2] === "")) return { kind: "none" };
  if (m[1] === "") {
    // Suffix range: the last N bytes.
    const n = Number(m[2]);
    if (n === 0 || size === 0) return { kind: "unsatisfiable" };
    const length = Math.min(n, size);
    return { kind: "range", range: { offset: size - length, length } };
  }
  const start = Number(m[1]);
  if (start >= size) return { kind: "unsatisfiable" };
  const end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (end < start) return { kind: "none" };
  return { kind: "range", range: { offset: start, length: end - start + 1 } };
}

export const contentRange = (r: ByteRange, size: number) => `bytes ${r.offset}-${r.offset + r.length - 1}/${size}`;

/** The `Content-Range` of a 416 (RFC 9110 §14.4): no range, only the size, so the client can ask again. */
export const unsatisfiedRange = (size: number) => `bytes */${size}`;

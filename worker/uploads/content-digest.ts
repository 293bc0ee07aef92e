/**
 * Parses an RFC 9530 `Content-Digest` header and returns the SHA-256 it
 * carries as lower-case hex. The header is a structured-field dictionary, so
 * other algorithms may stand beside ours (`sha-512=:…:, sha-256=:…:`).
 */

export type DigestParse = { ok: true; sha256: string } | { ok: false; reason: "missing" | "malformed" };

export function parseContentDigest(header: string | undefined | null): DigestParse {
  if (header == null || header.trim() === "") return { ok: false, reason: "missing" };
  for (const member of header.split(",")) {
    const eq = member.indexOf("=");
    if (eq < 0) continue;
    const key = member.slice(0, eq).trim().toLowerCase();
    if (key !== "sha-256") continue;
    const value = /^:([A-Za-z0-9+/]+={0,2}):(;.*)?$/.exec(member.slice(eq + 1).trim());
    if (!value) return { ok: false, reason: "malformed" };
    let binary: string;
    try {
      binary = atob(value[1]);
    } catch {
      return { ok: false, reason: "malformed" };
    }
    if (binary.length !== 32) return { ok: false, reason: "malformed" };
    let hex = "";
    for (let i = 0; i < binary.length; i++) hex += binary.charCodeAt(i).toString(16).padStart(2, "0");
    return { ok: true, sha256: hex };
  }
  return { ok: false, reason: header.includes("sha-256") ? "malformed" : "missing" };
}

/** Formats a hex SHA-256 as a `Content-Digest` header value. */
export function formatContentDigest(sha256Hex: string): string {
  let binary = "";
  for (let i = 0; i < sha256Hex.length; i += 2) binary += String.fromCharCode(parseInt(sha256Hex.slice(i, i + 2), 16));
  return `sha-256=:${btoa(binary)}:`;
}

import { describe, expect, it } from "vitest";
import { formatContentDigest, parseContentDigest } from "./content-digest.ts";

describe("Content-Digest", () => {
  const hex = "a".repeat(64);
  it("round-trips a SHA-256", () => {
    expect(parseContentDigest(formatContentDigest(hex))).toEqual({ ok: true, sha256: hex });
  });
  it("finds sha-256 among other algorithms", () => {
    expect(parseContentDigest(`sha-512=:AAAA:, ${formatContentDigest(hex)}`)).toEqual({ ok: true, sha256: hex });
  });
  it.each([
    [undefined, "missing"],
    ["", "missing"],
    ["md5=:AAAA:", "missing"],
    ["sha-256=abc", "malformed"],
    ["sha-256=:!!!:", "malformed"],
    ["sha-256=:AAAA:", "malformed"],
  ])("refuses %j as %s", (header, reason) => {
    expect(parseContentDigest(header)).toEqual({ ok: false, reason });
  });
});

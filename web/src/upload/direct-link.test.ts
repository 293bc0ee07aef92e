import { describe, expect, it } from "vitest";
import { ApiError } from "../http.ts";
import { directCapability, directLinkRefusal } from "./direct-link.ts";

describe("a direct upload link on the upload page", () => {
  it("reads the capability from the page's address", () => {
    expect(directCapability("?direct=abc123.s3cr3t")).toBe("abc123.s3cr3t");
    expect(directCapability("?direct=")).toBeUndefined();
    expect(directCapability("")).toBeUndefined();
  });

  it("says in words why the link refused, and that trying again will not help", () => {
    const refusal = (code: ConstructorParameters<typeof ApiError>[0], details?: Record<string, unknown>) =>
      directLinkRefusal(new ApiError(code, `server says ${code}`, { details }));
    expect(refusal("direct_upload_used")).toMatch(/already used .* works only once/);
    expect(refusal("direct_upload_expired")).toBe("This upload link has expired. Ask whoever sent it for a new one.");
    expect(refusal("payload_too_large", { limitBytes: 2_500_000 })).toContain("files of up to 2.5 MB");
    expect(refusal("origin_not_allowed")).toBe(
      "This upload link works only on the site it was made for. server says origin_not_allowed",
    );
    expect(refusal("invalid_token")).toMatch(/not valid/);
    // Not about the link: the card's own handling (retry, resume) applies.
    expect(refusal("network_error")).toBeUndefined();
    expect(refusal("rate_limited")).toBeUndefined();
    expect(directLinkRefusal(new Error("boom"))).toBeUndefined();
  });
});

import { describe, expect, it } from "vitest";
import { ApiError } from "../http/errors.ts";
import { httpDate, parseUploadChecksum, parseUploadMetadata } from "./tus-headers.ts";

/** Base64 of a string's UTF-8 bytes, as a tus client writes a metadata value. */
const b64 = (text: string) => btoa(String.fromCharCode(...new TextEncoder().encode(text)));

/** The `ApiError` code and status `run` throws. */
function refusal(run: () => unknown): { code: string; status: number } {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    return { code: (err as ApiError).code, status: (err as ApiError).status };
  }
  throw new Error("expected a refusal");
}

describe("parseUploadMetadata", () => {
  it("reads no header, or a blank one, as no metadata", () => {
    expect(parseUploadMetadata(undefined)).toEqual(new Map());
    expect(parseUploadMetadata("  ")).toEqual(new Map());
  });

  it("reads the protocol's own example: a base64 value, and a key without value as the empty string", () => {
    const metadata = parseUploadMetadata("filename d29ybGRfZG9taW5hdGlvbl9wbGFuLnBkZg==,is_confidential");
    expect([...metadata]).toEqual([
      ["filename", "world_domination_plan.pdf"],
      ["is_confidential", ""],
    ]);
  });

  it("decodes values as UTF-8, and allows spaces around the pairs", () => {
    const metadata = parseUploadMetadata(
      ` filename ${b64("Grüße 日本 🎬.mp4")} , title ${b64("Ça va")} ,tags ${b64("a,b")}`,
    );
    expect(Object.fromEntries(metadata)).toEqual({ filename: "Grüße 日本 🎬.mp4", title: "Ça va", tags: "a,b" });
  });

  it.each([
    ["a key given twice", `title ${b64("a")},title ${b64("b")}`],
    ["a key given twice, once without value", `title ${b64("a")},title`],
    ["a value that is not base64", "filename not*base64!"],
    ["a pair with two values", `filename ${b64("a")} ${b64("b")}`],
    ["a value that is not UTF-8", `filename ${btoa("\xff\xfe")}`],
    ["a key that is not printable ASCII", `fïlename ${b64("a")}`],
    ["an empty pair", `filename ${b64("a")},`],
  ])("refuses %s with 400 invalid_request", (_name, header) => {
    expect(refusal(() => parseUploadMetadata(header))).toEqual({ code: "invalid_request", status: 400 });
  });
});

describe("parseUploadChecksum", () => {
  const digest = new Uint8Array([0, 1, 2, 250, 251, 252, 253, 254, 255]);
  const encoded = btoa(String.fromCharCode(...digest));

  it("reads no header as no checksum", () => {
    expect(parseUploadChecksum(undefined)).toBeUndefined();
  });

  it.each(["sha256", "sha1", "md5"] as const)("reads `%s <base64>` as the algorithm and the digest's bytes", (alg) => {
    expect(parseUploadChecksum(`${alg} ${encoded}`)).toEqual({ algorithm: alg, digest });
  });

  it.each([
    ["an algorithm the server does not offer", `crc32 ${encoded}`],
    ["an algorithm in capitals", `SHA256 ${encoded}`],
    ["a name of an object's own property", `constructor ${encoded}`],
    ["no digest", "sha256"],
    ["a digest that is not base64", "sha256 ***"],
    ["a digest with padding inside it", "sha256 AA=A"],
    ["two spaces", `sha256  ${encoded}`],
  ])("refuses %s with 400 unsupported_checksum", (_name, header) => {
    expect(refusal(() => parseUploadChecksum(header))).toEqual({ code: "unsupported_checksum", status: 400 });
  });
});

describe("httpDate", () => {
  it("writes an epoch time as an HTTP date", () => {
    expect(httpDate(Date.UTC(2030, 0, 2, 3, 4, 5))).toBe("Wed, 02 Jan 2030 03:04:05 GMT");
  });
});

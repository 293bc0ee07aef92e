/**
 * The tus 1.0.0 headers Reelay reads and writes (https://tus.io/protocols/resumable-upload):
 * `Upload-Metadata` (comma-separated `key base64value` pairs) and
 * `Upload-Checksum` (`<algorithm> <base64 digest>`), parsed here so the
 * routes only decide.
 */
import { apiError } from "../http/errors.ts";

export const TUS_VERSION = "1.0.0";
export const TUS_EXTENSIONS = ["creation", "creation-with-upload", "expiration", "termination", "checksum"] as const;

/** The checksum algorithms `Upload-Checksum` may name, as `crypto.DigestStream` calls them. */
export const TUS_CHECKSUMS = { sha256: "SHA-256", sha1: "SHA-1", md5: "MD5" } as const;

/**
 * Our own response header with the size every `PATCH` body must be a whole
 * number of (unless it ends the file): R2 parts must all have one size.
 */
export const CHUNK_SIZE_HEADER = "Reelay-Chunk-Size";
/** On creation: the video's upload token, for our API and the owner's routes (edit, delete). */
export const UPLOAD_TOKEN_HEADER = "Reelay-Upload-Token";
export const TUS_CONTENT_TYPE = "application/offset+octet-stream";

/** Every header a browser's tus client must be allowed to send, and to read. */
export const TUS_REQUEST_HEADERS = [
  "Tus-Resumable",
  "Upload-Length",
  "Upload-Offset",
  "Upload-Metadata",
  "Upload-Checksum",
  "Upload-Defer-Length",
  "X-Requested-With",
];
export const TUS_RESPONSE_HEADERS = [
  "Location",
  "Upload-Offset",
  "Upload-Length",
  "Upload-Expires",
  "Upload-Metadata",
  "Tus-Resumable",
  "Tus-Version",
  "Tus-Extension",
  "Tus-Max-Size",
  "Tus-Checksum-Algorithm",
  CHUNK_SIZE_HEADER,
  UPLOAD_TOKEN_HEADER,
];

/** `Upload-Metadata` as a map of UTF-8 strings (a key without value maps to ""); 400 when malformed. */
export function parseUploadMetadata(header: string | undefined): Map<string, string> {
  const metadata = new Map<string, string>();
  if (!header?.trim()) return metadata;
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });
  for (const pair of header.split(",")) {
    const [key = "", value, ...rest] = pair.trim().split(" ");
    if (!/^[!-+\--~]+$/.test(key) || rest.length > 0 || metadata.has(key)) throw malformedMetadata();
    if (value === undefined) {
      metadata.set(key, "");
      continue;
    }
    try {
      metadata.set(key, decoder.decode(Uint8Array.from(atob(value), (ch) => ch.charCodeAt(0))));
    } catch {
      throw malformedMetadata();
    }
  }
  return metadata;
}

const malformedMetadata = () =>
  apiError("invalid_request", "`Upload-Metadata` must be comma-separated `key base64value` pairs with distinct keys.");

export type Checksum = { algorithm: keyof typeof TUS_CHECKSUMS; digest: Uint8Array };

/** `Upload-Checksum`, or undefined when absent; 400 `unsupported_checksum` when unknown or malformed. */
export function parseUploadChecksum(header: string | undefined): Checksum | undefined {
  if (header === undefined) return undefined;
  const match = /^([a-z0-9]+) ([A-Za-z0-9+/]+={0,2})$/.exec(header.trim());
  const algorithm = match?.[1];
  if (!match || !algorithm || !Object.hasOwn(TUS_CHECKSUMS, algorithm)) {
    throw apiError(
      "unsupported_checksum",
      `\`Upload-Checksum\` must be \`<algorithm> <base64 digest>\` with one of: ${Object.keys(TUS_CHECKSUMS).join(", ")}.`,
    );
  }
  try {
    return {
      algorithm: algorithm as Checksum["algorithm"],
      digest: Uint8Array.from(atob(match[2]!), (ch) => ch.charCodeAt(0)),
    };
  } catch {
    throw apiError("unsupported_checksum", "The digest of `Upload-Checksum` is not valid base64.");
  }
}

/** An epoch time as tus writes `Upload-Expires`: an HTTP date. */
export const httpDate = (epochMs: number) => new Date(epochMs).toUTCString();

/**
 * `Content-Disposition: attachment` naming a file after user text (a title),
 * as RFC 6266 asks: an ASCII `filename=` for old clients, and the real name
 * as `filename*=UTF-8''…` (RFC 8187), which every current browser prefers.
 */

/** Characters no file name may hold on common systems; each becomes `_`. */
const UNSAFE_IN_NAMES = /[\\/:*?"<>|\u0000-\u001f\u007f]/g;

/** RFC 8187 `attr-char`: what `filename*` may carry unencoded. */
const ATTR_CHAR = /[A-Za-z0-9!#$&+\-.^_`|~]/;

/** `text` percent-encoded as UTF-8, every byte outside `attr-char` escaped. */
function encodeExtValue(text: string): string {
  let out = "";
  for (const char of text) {
    if (ATTR_CHAR.test(char)) out += char;
    else
      for (const byte of new TextEncoder().encode(char)) out += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** The header for downloading a file named `base` (a title; `fallback` when it leaves nothing) plus `extension`. */
export function attachmentNamed(base: string, extension: string, fallback = "video"): string {
  return attachment(`${base.replace(UNSAFE_IN_NAMES, "_").trim() || fallback}${extension}`);
}

/** The header for downloading a file named `filename` (the uploader's own name, or a title made one). */
export function attachment(filename: string): string {
  const name = filename.replace(UNSAFE_IN_NAMES, "_");
  const ascii = name.replace(/[^\x20-\x7e]/g, "_");
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeExtValue(name)}`;
}

/**
 * Which URLs an import may fetch: https only (plain http where the
 * deployment allows it, for local use), with a host, and no credentials in
 * the URL (they would be stored, and shown back). Redirects are held to the
 * same rule, hop by hop (import-fetch.ts).
 */

/** The URL as it will be fetched, or the reason it may not be. */
export function checkImportUrl(
  text: string,
  allowHttp: boolean,
): { ok: true; url: URL } | { ok: false; reason: string } {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, reason: "The import URL is not a valid absolute URL." };
  }
  const schemes = allowHttp ? ["https:", "http:"] : ["https:"];
  if (!schemes.includes(url.protocol)) {
    return {
      ok: false,
      reason: allowHttp ? "The import URL must be an http or https URL." : "The import URL must be an https URL.",
    };
  }
  if (!url.hostname) return { ok: false, reason: "The import URL has no host." };
  if (url.username || url.password)
    return { ok: false, reason: "The import URL must not carry a user name or password." };
  return { ok: true, url };
}

/** The file name an import gets: the server's `Content-Disposition` filename, else the URL's last path segment. */
export function importFilename(url: URL, contentDisposition: string | null): string {
  const quoted = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(contentDisposition ?? "")?.[1];
  let name = quoted ?? url.pathname.split("/").pop() ?? "";
  try {
    name = decodeURIComponent(name);
  } catch {
    // Kept as sent.
  }
  name = name
    .replace(/[\u0000-\u001f\u007f/\\]/g, "")
    .trim()
    .slice(0, 255);
  return name || "video";
}

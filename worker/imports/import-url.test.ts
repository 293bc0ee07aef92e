// Which URLs an import may fetch, and the file name it takes from them: pure
// rules, checked for both settings of ALLOW_HTTP_IMPORTS (the worker tests
// run with it on, so the https-only rule is proved here).
import { describe, expect, it } from "vitest";
import { checkImportUrl, importFilename } from "./import-url.ts";

const reasonOf = (url: string, allowHttp: boolean) => {
  const checked = checkImportUrl(url, allowHttp);
  return checked.ok ? null : checked.reason;
};

describe("checkImportUrl", () => {
  it("takes an https URL as it will be fetched", () => {
    const checked = checkImportUrl("https://cdn.example.com/a%20b/clip.mp4?sig=1#t=3", false);
    expect(checked).toMatchObject({ ok: true });
    expect(checked.ok && checked.url.href).toBe("https://cdn.example.com/a%20b/clip.mp4?sig=1#t=3");
  });

  it("refuses plain http unless the deployment allows it", () => {
    expect(reasonOf("http://cdn.example.com/clip.mp4", false)).toBe("The import URL must be an https URL.");
    expect(reasonOf("HTTP://cdn.example.com/clip.mp4", false)).toBe("The import URL must be an https URL.");
    expect(reasonOf("http://cdn.example.com/clip.mp4", true)).toBeNull();
    expect(reasonOf("https://cdn.example.com/clip.mp4", true)).toBeNull();
  });

  it("refuses every scheme but http(s), whatever the setting", () => {
    for (const url of [
      "ftp://files.example.com/clip.mp4",
      "file:///etc/passwd",
      "javascript:alert(1)",
      "data:video/mp4;base64,AAAA",
      "blob:https://example.com/0b1c",
      "ws://example.com/clip.mp4",
    ]) {
      expect(reasonOf(url, false), url).toBe("The import URL must be an https URL.");
      expect(reasonOf(url, true), url).toBe("The import URL must be an http or https URL.");
    }
  });

  it("refuses a URL carrying a user name or password, which would be stored and shown back", () => {
    for (const url of ["https://alice:secret@example.com/clip.mp4", "https://alice@example.com/clip.mp4"]) {
      expect(reasonOf(url, false), url).toBe("The import URL must not carry a user name or password.");
    }
  });

  it("refuses what is not an absolute URL", () => {
    for (const text of ["", "clip.mp4", "/videos/clip.mp4", "//example.com/clip.mp4", "https://", "not a url"]) {
      expect(reasonOf(text, true), text).toBe("The import URL is not a valid absolute URL.");
    }
  });
});

describe("importFilename", () => {
  const url = (text: string) => new URL(text);

  it("takes the URL's last path segment, decoded, when the server names no file", () => {
    expect(importFilename(url("https://example.com/media/My%20Trip.mp4?sig=abc"), null)).toBe("My Trip.mp4");
  });

  it("prefers the server's Content-Disposition file name", () => {
    const at = url("https://example.com/download?id=3");
    expect(importFilename(at, 'attachment; filename="Sunrise.mov"')).toBe("Sunrise.mov");
    expect(importFilename(at, "attachment; filename=Sunrise.mov")).toBe("Sunrise.mov");
    expect(importFilename(at, "attachment; filename*=UTF-8''Caf%C3%A9.mp4")).toBe("Café.mp4");
  });

  it("keeps no path separators or control characters, and names a nameless file `video`", () => {
    expect(importFilename(url("https://example.com/a/..%2F..%2Fetc%2Fpasswd"), null)).toBe("....etcpasswd");
    expect(importFilename(url("https://example.com/x"), 'attachment; filename="a\\\\b\u0001.mp4"')).toBe("ab.mp4");
    expect(importFilename(url("https://example.com/"), null)).toBe("video");
    expect(importFilename(url("https://example.com/%E0%A4%A"), null)).toBe("%E0%A4%A");
  });
});

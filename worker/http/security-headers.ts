/**
 * The headers every HTML page leaves with, the web pages (pages/) and the
 * API reference (openapi/) alike: a Content-Security-Policy that allows only
 * our own scripts, styles and media (plus blob: URLs, which hls.js uses for
 * Media Source and its worker), no MIME sniffing, and no full URL in the
 * Referer sent to other sites. No page may be framed by another site but the
 * embed page, which the sites `EMBED_FRAME_ANCESTORS` names may frame
 * (`embedSecurityHeaders`).
 */
const POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  // data: for hls.js, which gives each caption <track> it makes the source `data:,WEBVTT` (texttrack-utils.ts).
  "media-src 'self' blob: data:",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
];

export const PAGE_SECURITY_HEADERS = {
  "Content-Security-Policy": [...POLICY, "frame-ancestors 'none'"].join("; "),
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "strict-origin-when-cross-origin",
} as const;

/** The embed page's headers: the same policy, framed by `frameAncestors` (a CSP source list, `*` any site). */
export function embedSecurityHeaders(frameAncestors: string): Record<string, string> {
  return {
    ...PAGE_SECURITY_HEADERS,
    "Content-Security-Policy": [...POLICY, `frame-ancestors ${frameAncestors}`].join("; "),
  };
}

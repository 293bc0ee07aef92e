/**
 * The headers every HTML page leaves with, the web pages (pages/) and the
 * API reference (openapi/) alike: a Content-Security-Policy that allows only
 * our own scripts, styles and media (plus blob: URLs, which hls.js uses for
 * Media Source and its worker), no MIME sniffing, and no full URL in the
 * Referer sent to other sites.
 */
export const PAGE_SECURITY_HEADERS = {
  "Content-Security-Policy": [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "media-src 'self' blob:",
    "connect-src 'self'",
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; "),
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "strict-origin-when-cross-origin",
} as const;

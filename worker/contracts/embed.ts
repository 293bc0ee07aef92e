/**
 * The embed code: an iframe of the embed page (`/embed/:id`), sized to the
 * video, as oEmbed answers it (oembed/oembed-routes.ts) and the watch page's
 * Share control copies it (web/src/watch/share.ts). Pure, no zod.
 */
import { escapeHtml } from "./html.ts";

/** The player's width when nobody sets a limit: what most sites embed at. */
export const EMBED_WIDTH = 640;

/** The player fitted in the consumer's box (`EMBED_WIDTH` wide by default), keeping the video's shape. */
export function embedSize(
  video: { width: number | null; height: number | null },
  maxwidth?: number,
  maxheight?: number,
): { width: number; height: number } {
  const aspect = video.width && video.height ? video.width / video.height : 16 / 9;
  let width = Math.min(EMBED_WIDTH, maxwidth ?? EMBED_WIDTH);
  let height = Math.round(width / aspect);
  if (maxheight !== undefined && height > maxheight) {
    height = maxheight;
    width = Math.max(1, Math.round(height * aspect));
  }
  return { width, height };
}

/** The iframe of the embed page at `src` (an absolute URL), `size`, titled for screen readers. */
export function embedIframe(src: string, size: { width: number; height: number }, title: string): string {
  return (
    `<iframe src="${escapeHtml(src)}" width="${size.width}" height="${size.height}" title="${escapeHtml(title)}" ` +
    'frameborder="0" allow="autoplay; fullscreen; picture-in-picture" allowfullscreen></iframe>'
  );
}

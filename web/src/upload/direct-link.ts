/**
 * A direct creator upload's link, `/upload?direct=<capability>`: someone
 * holding the uploader credential minted it (`POST /api/direct-uploads`) for
 * a person who has none. It creates one video, once, before it expires; the
 * page then takes a single file and says why when the link is refused.
 */
import { formatBytes } from "../format.ts";
import { ApiError } from "../http.ts";

/** The capability in the page's query (`location.search`), if it was opened from a direct upload link. */
export function directCapability(search: string): string | undefined {
  return new URLSearchParams(search).get("direct") || undefined;
}

/**
 * What to tell the person when the server refused to create the link's
 * upload; undefined when the refusal is not about the link. None of these
 * passes by trying again with the same link.
 */
export function directLinkRefusal(err: unknown): string | undefined {
  if (!(err instanceof ApiError)) return undefined;
  switch (err.code) {
    case "direct_upload_used":
      return "This upload link was already used for a video: it works only once. Ask whoever sent it for a new link to upload another.";
    case "direct_upload_expired":
      return "This upload link has expired. Ask whoever sent it for a new one.";
    case "payload_too_large": {
      const limit = err.details.limitBytes;
      return typeof limit === "number"
        ? `This file is too large for this upload link, which takes files of up to ${formatBytes(limit)}. Choose a smaller file.`
        : `This file is too large for this upload link. ${err.message}`;
    }
    case "origin_not_allowed":
      return `This upload link works only on the site it was made for. ${err.message}`;
    case "invalid_token":
    case "not_found":
      return "This upload link is not valid. Check that you opened the whole link you were sent.";
    default:
      return undefined;
  }
}

/**
 * Which declared file types are videos Reelay may be sent, and the reason
 * given for those that are not: the API refuses them at creation (415
 * `not_a_video`) and the upload page leaves them out, both with the words the
 * transcoder uses when a probe finds the same (vocabulary.ts SOURCE_REASONS).
 * Plain values, no zod, so the pages can import it.
 */
import { SOURCE_REASONS } from "./vocabulary.ts";

/**
 * Extensions of containers people upload whose files operating systems often
 * type as something else: `.ts` as a Qt translation (`text/vnd.trolltech.linguist`),
 * `.mts` as a 3D model (`model/vnd.mts`), `.mkv` or `.flv` as nothing known.
 */
const VIDEO_EXTENSIONS = [
  ".3gp",
  ".avi",
  ".flv",
  ".m2ts",
  ".m4v",
  ".mkv",
  ".mov",
  ".mp4",
  ".mpeg",
  ".mpg",
  ".mts",
  ".mxf",
  ".ogv",
  ".ts",
  ".vob",
  ".webm",
  ".wmv",
];

/** What the file input offers: every video type, and the video files typed otherwise. */
export const VIDEO_ACCEPT = ["video/*", ...VIDEO_EXTENSIONS].join(",");

/**
 * Why a file declared as `contentType` is not a video, or null when it may be
 * one: `video/*`, and `application/octet-stream` (type unknown; the
 * transcoder's probe decides). Audio files have no picture; images and every
 * other type are not video containers.
 */
export function notAVideoReason(contentType: string): string | null {
  const type = contentType.trim().toLowerCase();
  if (type.startsWith("video/") || type === "application/octet-stream") return null;
  if (type.startsWith("audio/")) return SOURCE_REASONS.audioOnly;
  return SOURCE_REASONS.notAccepted;
}

/**
 * The type to declare for a file a browser picked: its own when it has one
 * that is not mistaken, `application/octet-stream` when it has none, or when
 * its name says video though the system typed it as something else (an
 * MPEG-TS `.ts` typed as a translation file). Audio and image types are kept:
 * their names do not overrule them.
 */
export function declaredType(file: { name: string; type: string }): string {
  const type = file.type.trim().toLowerCase();
  if (type === "") return "application/octet-stream";
  if (notAVideoReason(type) === null || type.startsWith("audio/") || type.startsWith("image/")) return type;
  const name = file.name.toLowerCase();
  return VIDEO_EXTENSIONS.some((ext) => name.endsWith(ext)) ? "application/octet-stream" : type;
}

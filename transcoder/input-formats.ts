/**
 * What ffmpeg may read. Left to itself, ffmpeg picks a demuxer by content,
 * and some demuxers open other files: an HLS playlist or a concat list names
 * files on this host, `image2` reads a numbered series, `lavfi` makes input
 * out of nothing. An uploaded 90-byte `.m3u8` once made the transcoder read
 * and publish a local file. So every ffprobe and ffmpeg run opens its input
 * with these arguments: only the containers people upload, and only the one
 * protocol the source is read with (HTTP from the worker in a job, `file`
 * for a local path in tests and benchmarks; outputs are local files). A file
 * of any other format fails at open with "Format not on whitelist", before a
 * byte past its header is read.
 */
import { SOURCE_REASONS } from "../worker/contracts/vocabulary.ts";

/**
 * Demuxer names (ffmpeg matches any name of a demuxer's comma-separated list,
 * so `mov` admits `mov,mp4,m4a,3gp,3g2,mj2`): MP4/MOV and phone formats,
 * Matroska/WebM, AVI, MPEG transport streams (.ts, .mts/.m2ts camcorders),
 * Flash video, MPEG program streams (DVD .vob/.mpg), ASF (.wmv), Ogg, MXF and
 * DV (professional cameras and camcorders).
 */
export const ACCEPTED_FORMATS = [
  "mov",
  "mp4",
  "m4a",
  "3gp",
  "3g2",
  "mj2",
  "matroska",
  "webm",
  "avi",
  "mpegts",
  "flv",
  "mpeg",
  "asf",
  "ogg",
  "mxf",
  "dv",
] as const;

/** Input options for every ffprobe and ffmpeg run on a local file, before its `-i` (or ffprobe's input path). */
export const INPUT_GUARD = ["-protocol_whitelist", "file", "-format_whitelist", ACCEPTED_FORMATS.join(",")];

/**
 * Where ffmpeg reads a source: the worker's source URL read by range with
 * the job's token (a job never downloads its source: a probe reads the few
 * bytes it needs, the copy and the encodes stream it), or a local file.
 */
export type SourceInput = { path: string } | { url: string; token: string; stallMs: number };

/**
 * The input options and the input to name for `source`. A URL is read over
 * HTTP only (no `file`: nothing the source names can open a local file), with
 * the token as a header; an `https` worker needs TLS too. The token is on
 * ffprobe's command line: only this host's own processes can read it, and
 * it is good for this one job.
 */
export function inputFor(source: SourceInput): { options: string[]; input: string } {
  if ("path" in source) return { options: INPUT_GUARD, input: source.path };
  return {
    options: [
      ...["-protocol_whitelist", "http,https,tcp,tls", "-format_whitelist", ACCEPTED_FORMATS.join(",")],
      ...["-headers", `Authorization: Bearer ${source.token}\r\n`],
      // The worker never redirects; following one would send the token, and read, elsewhere.
      ...["-max_redirects", "0"],
      // The worker answers a range with a bounded slice (job-routes.ts): read on with a new request.
      ...["-reconnect", "1"],
      // A read that moves no byte for this long fails, as the transcoder's own transfers do.
      ...["-rw_timeout", String(source.stallMs * 1000)],
    ],
    input: source.url,
  };
}

/** ffmpeg's complaint when the input's format is not one of ACCEPTED_FORMATS. */
export const NOT_ON_WHITELIST = /Format not on whitelist/;

/** Whether a probed `format_name` (itself a comma-separated list) is one we accept. */
export function isAcceptedFormat(formatName: string): boolean {
  const accepted: readonly string[] = ACCEPTED_FORMATS;
  return formatName.split(",").some((name) => accepted.includes(name));
}

export const NOT_ACCEPTED_REASON = SOURCE_REASONS.notAccepted;

/**
 * A video's D1 row as the API describes it: the `Video` of the contract, for
 * every answer that carries one. Playback URLs are root-relative
 * (`/videos/<id>/master.m3u8`): they resolve against the URL the API was
 * called at, so they never name a host taken from the request's `Host`
 * header, and pages, players and CDNs in front of the Worker all reach them.
 */
import type { Video } from "../contracts/video.ts";
import type { VideoRow } from "../db/schema.ts";
import { posterFile } from "../contracts/storyboard.ts";

export function describeVideo(row: VideoRow): Video {
  const inProgress =
    row.status === "importing" || row.status === "processing" || (row.status === "ready" && !row.ladderComplete);
  return {
    id: row.id,
    title: row.title,
    description: row.description,
    tags: row.tags,
    status: row.status,
    visibility: row.visibility,
    ...(inProgress ? { progress: row.progress ?? 0 } : {}),
    ...(row.error ? { error: row.error } : {}),
    durationSec: row.durationSec,
    width: row.width,
    height: row.height,
    frameRate: row.frameRate,
    renditions: (row.renditions ?? []).map((r) => ({
      name: r.name,
      width: r.width,
      height: r.height,
      bandwidth: r.bandwidth,
      bytes: r.bytes,
    })),
    // Null on rows processed before tracks and warnings were recorded: nothing known is nothing to show.
    audioTracks: (row.audioTracks ?? []).map((t) => ({
      name: t.name,
      language: t.language,
      label: t.label,
      default: t.default,
      channels: t.channels,
    })),
    warnings: (row.warnings ?? []).map((w) => ({ code: w.code, message: w.message })),
    createdAt: new Date(row.createdAt).toISOString(),
    downloadable: row.downloadable,
    posterTime: row.posterTime,
    playback: {
      hls: row.playbackJob ? `/videos/${row.id}/master.m3u8` : null,
      poster: row.playbackJob ? `/videos/${row.id}/${row.playbackJob}/${posterFile(row)}` : null,
      thumbnail: row.playbackJob && row.frames ? `/videos/${row.id}/thumbnail.jpg` : null,
      storyboard: row.playbackJob && row.frames ? `/videos/${row.id}/storyboard.vtt` : null,
      ...downloads(row),
    },
  };
}

/** The download URLs, once the owner allows them and they are made of the ladder that plays. */
function downloads(row: VideoRow): Pick<Video["playback"], "download" | "audioDownload"> {
  const made = row.downloadable && row.downloads?.state === "ready" && row.downloads.jobId === row.playbackJob;
  return {
    download: made ? `/videos/${row.id}/download.mp4` : null,
    audioDownload: made && (row.audioTracks ?? []).length > 0 ? `/videos/${row.id}/audio.m4a` : null,
  };
}

/**
 * The Reelay API as the pages use it (same origin), and the one way pages
 * show a failure. The server answers errors as `{ error: { code, message } }`
 * with messages written for people, so those are shown as they come.
 */
import type { UploadStatus } from "../../worker/contracts/upload.ts";
import type { ListQuery, TagSuggestions, Video, VideoPage, VideoPatch } from "../../worker/contracts/video.ts";
import { h } from "./dom.ts";
import { request } from "./http.ts";

export type SearchParams = Pick<ListQuery, "q" | "tag" | "sort" | "cursor"> & { limit?: number };

const id = (videoId: string) => encodeURIComponent(videoId);

/**
 * Who is asking for a video: a private one is described only to its owner
 * (the upload token) or to a holder of a playback token, whose playback URLs
 * then carry a token.
 */
export type Viewer = { token?: string | null; ownerToken?: string | null };

export const getVideo = (videoId: string, signal?: AbortSignal, viewer: Viewer = {}) =>
  request<Video>(`/api/videos/${id(videoId)}${viewer.token ? `?token=${encodeURIComponent(viewer.token)}` : ""}`, {
    signal,
    token: viewer.ownerToken ?? undefined,
  });

export function searchVideos(p: SearchParams, signal?: AbortSignal): Promise<VideoPage> {
  const qs = new URLSearchParams();
  if (p.q) qs.set("q", p.q);
  if (p.tag) qs.set("tag", p.tag);
  if (p.sort) qs.set("sort", p.sort);
  if (p.cursor) qs.set("cursor", p.cursor);
  if (p.limit) qs.set("limit", String(p.limit));
  const query = qs.toString();
  return request<VideoPage>(`/api/videos${query ? `?${query}` : ""}`, { signal });
}

export const listTags = (prefix = "", signal?: AbortSignal) =>
  request<TagSuggestions>(`/api/tags${prefix ? `?prefix=${encodeURIComponent(prefix)}` : ""}`, { signal });

export const updateVideo = (videoId: string, token: string, patch: VideoPatch) =>
  request<Video>(`/api/videos/${id(videoId)}`, { method: "PATCH", token, json: patch });

export const deleteVideo = (videoId: string, token: string) =>
  request<void>(`/api/videos/${id(videoId)}`, { method: "DELETE", token });

export const getUploadStatus = (videoId: string, token: string, signal?: AbortSignal) =>
  request<UploadStatus>(`/api/uploads/${id(videoId)}`, { token, signal });

export const cancelUpload = (videoId: string, token: string) =>
  request<void>(`/api/uploads/${id(videoId)}`, { method: "DELETE", token });

/** A sentence for a person, whatever was thrown. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error && err.message) return err.message;
  return "Something went wrong. Please try again.";
}

/** Replaces the content of `container` with an alert saying what went wrong. */
export function showError(container: HTMLElement, err: unknown, prefix = ""): HTMLElement {
  const alert = h(
    "p",
    { class: "error", role: "alert" },
    prefix ? `${prefix} ${errorMessage(err)}` : errorMessage(err),
  );
  container.replaceChildren(alert);
  return alert;
}

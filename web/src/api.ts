/**
 * The Reelay API as the pages use it (same origin), and the one way pages
 * show a failure. The server answers errors as `{ error: { code, message } }`
 * with messages written for people, so those are shown as they come.
 */
import { h } from "./dom.ts";

export type Visibility = "public" | "unlisted";
export type VideoStatus = "uploading" | "processing" | "ready" | "failed" | "aborted" | "expired";

export type Rendition = { name: string; width: number; height: number; bandwidth: number; bytes: number };

export type Video = {
  id: string;
  title: string;
  description: string;
  tags: string[];
  status: VideoStatus;
  /** 0..1 while processing, and while ready but the rest of the ladder is still encoding. */
  progress?: number;
  error?: string;
  durationSec: number | null;
  width: number | null;
  height: number | null;
  frameRate: number | null;
  renditions: Rendition[];
  createdAt: string;
  visibility?: Visibility;
  playback: { hls: string | null; poster: string | null };
};

/** Server-escaped HTML in which only `<mark>` is markup. */
export type Highlight = { title?: string; description?: string };
export type SearchItem = Video & { highlight?: Highlight };
export type VideoPage = { items: SearchItem[]; nextCursor: string | null };
export type SearchSort = "relevance" | "newest" | "oldest" | "duration";
export type SearchParams = { q?: string; tag?: string; sort?: SearchSort; cursor?: string; limit?: number };

export type UploadStatus = {
  videoId: string;
  status: VideoStatus;
  size: number;
  chunkSize: number;
  totalChunks: number;
  received: number[];
  expiresAt: string | number;
};

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }
}

type RequestOptions = { method?: string; token?: string; json?: unknown; signal?: AbortSignal };

export async function api<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.json !== undefined) headers["content-type"] = "application/json";
  let res: Response;
  try {
    res = await fetch(path, {
      method: opts.method ?? "GET",
      headers,
      body: opts.json === undefined ? undefined : JSON.stringify(opts.json),
      signal: opts.signal,
    });
  } catch (err) {
    if (isAbort(err)) throw err;
    throw new ApiError(0, "network_error", "Could not reach Reelay. Check your connection and try again.");
  }
  if (res.status === 204) return undefined as T;
  const body = await res.json().catch(() => null);
  if (!res.ok) {
    const e = body?.error ?? {};
    throw new ApiError(res.status, e.code ?? "http_error", e.message ?? `The server answered ${res.status}.`);
  }
  return body as T;
}

const id = (videoId: string) => encodeURIComponent(videoId);

export const getVideo = (videoId: string, signal?: AbortSignal) => api<Video>(`/api/videos/${id(videoId)}`, { signal });

export function searchVideos(p: SearchParams, signal?: AbortSignal): Promise<VideoPage> {
  const qs = new URLSearchParams();
  if (p.q) qs.set("q", p.q);
  if (p.tag) qs.set("tag", p.tag);
  if (p.sort) qs.set("sort", p.sort);
  if (p.cursor) qs.set("cursor", p.cursor);
  if (p.limit) qs.set("limit", String(p.limit));
  const query = qs.toString();
  return api<VideoPage>(`/api/videos${query ? `?${query}` : ""}`, { signal });
}

export const listTags = (prefix = "", signal?: AbortSignal) =>
  api<{ tags: { tag: string; count: number }[] }>(`/api/tags${prefix ? `?prefix=${encodeURIComponent(prefix)}` : ""}`, {
    signal,
  });

export type VideoPatch = { title?: string; description?: string; tags?: string[]; visibility?: Visibility };

export const updateVideo = (videoId: string, token: string, patch: VideoPatch) =>
  api<Video>(`/api/videos/${id(videoId)}`, { method: "PATCH", token, json: patch });

export const deleteVideo = (videoId: string, token: string) =>
  api<void>(`/api/videos/${id(videoId)}`, { method: "DELETE", token });

export const getUploadStatus = (videoId: string, token: string, signal?: AbortSignal) =>
  api<UploadStatus>(`/api/uploads/${id(videoId)}`, { token, signal });

export const cancelUpload = (videoId: string, token: string) =>
  api<void>(`/api/uploads/${id(videoId)}`, { method: "DELETE", token });

export function isAbort(err: unknown): boolean {
  return err instanceof DOMException && err.name === "AbortError";
}

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

/**
 * One search result: poster, title, duration, age, tags. Titles and
 * descriptions are user text: they go in as text, and search highlights
 * through renderHighlight, which only ever creates <mark> elements.
 */
import type { ListedVideo } from "../../../worker/contracts/video.ts";
import { h } from "../dom.ts";
import { formatAge, formatDuration } from "../format.ts";
import { renderHighlight } from "../highlight.ts";
import { tagUrl, watchUrl } from "../links.ts";

export function tagList(tags: string[], label: string): HTMLUListElement | null {
  if (tags.length === 0) return null;
  return h(
    "ul",
    { class: "tag-list", "aria-label": label },
    ...tags.map((tag) => h("li", {}, h("a", { href: tagUrl(tag) }, `#${tag}`))),
  );
}

export function videoCard(v: ListedVideo, now = Date.now()): HTMLLIElement {
  const title = h("h2", { class: "card-title" });
  if (v.highlight?.title) renderHighlight(title, v.highlight.title);
  else title.textContent = v.title;

  const duration = formatDuration(v.durationSec);
  const thumb = h(
    "div",
    { class: "thumb" },
    v.playback.poster
      ? h("img", {
          class: "poster",
          src: v.playback.poster,
          alt: "",
          loading: "lazy",
          decoding: "async",
          width: 320,
          height: 180,
        })
      : h("span", { class: "no-poster", "aria-hidden": "true" }, "▶"),
    duration && h("span", { class: "duration" }, h("span", { class: "visually-hidden" }, "Duration "), duration),
  );

  // The description is worth showing only where it explains why this matched.
  let snippet: HTMLElement | null = null;
  if (v.highlight?.description.toLowerCase().includes("<mark>")) {
    snippet = h("p", { class: "card-snippet" });
    renderHighlight(snippet, v.highlight.description);
  }

  return h(
    "li",
    { class: "card", "data-video-id": v.id },
    h("a", { class: "card-link", href: watchUrl(v.id) }, thumb, title),
    h("p", { class: "card-meta" }, h("time", { datetime: v.createdAt }, formatAge(v.createdAt, now))),
    snippet,
    tagList(v.tags.slice(0, 4), "Tags"),
  );
}

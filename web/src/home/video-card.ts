/**
 * One search result: poster, title, duration, age, tags, and the moments
 * whose captions matched, each a link into the video at that time. Titles,
 * descriptions and cues are user text: they go in as text, and search
 * highlights through renderHighlight, which only ever creates <mark> elements.
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
    momentList(v),
    tagList(v.tags.slice(0, 4), "Tags"),
  );
}

/** Where the video says what was searched for: a link to each moment, its time and the cue. */
function momentList(v: ListedVideo): HTMLUListElement | null {
  if (!v.moments?.length) return null;
  return h(
    "ul",
    { class: "card-moments", "aria-label": "Said in the video" },
    ...v.moments.map((m) => {
      const text = h("span", { class: "moment-text" });
      renderHighlight(text, m.text);
      // Whole seconds down, as the link starts: the cue is on screen by then, or just after.
      const time = formatDuration(Math.floor(m.t));
      return h(
        "li",
        {},
        h(
          "a",
          { href: momentUrl(v.id, m.t) },
          h("time", { class: "moment-time", datetime: `PT${Math.floor(m.t)}S` }, time),
          " ",
          text,
        ),
      );
    }),
  );
}

/** The watch page starting at `t` seconds (`?t=`), whole seconds down so the cue is on screen. */
export const momentUrl = (id: string, t: number) => `${watchUrl(id)}?t=${Math.floor(t)}`;

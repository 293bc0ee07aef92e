/**
 * The home page: search as you type (debounced), results as a grid of cards,
 * "More videos" for the next page, and an empty state that says what to do.
 */
import "../styles/home.css";
import type { ListedVideo } from "../../../worker/contracts/video.ts";
import { listTags, searchVideos, showError } from "../api.ts";
import { byId, h } from "../dom.ts";
import { isAbort } from "../http.ts";
import { adoptCurrentUrl, pushUrl, readState, replaceUrl, stateUrl, type SearchState } from "./search-url.ts";
import { tagList, videoCard } from "./video-card.ts";

const PAGE_SIZE = 24;
const DEBOUNCE_MS = 250;

const form = byId<HTMLFormElement>("search-form");
const input = byId<HTMLInputElement>("q");
const sortSelect = byId<HTMLSelectElement>("sort");
const results = byId<HTMLUListElement>("results");
const status = byId("results-status");
const empty = byId("empty");
const more = byId<HTMLButtonElement>("more");
const activeFilter = byId("active-filter");
const popularTags = byId("popular-tags");

let state: SearchState = readState();
let cursor: string | null = null;
let shown = 0;
let inflight: AbortController | undefined;
let debounce: ReturnType<typeof setTimeout> | undefined;

/** The search the controls describe; the sort stays the server's default until someone picks one. */
function current(sort = state.sort): SearchState {
  return { q: input.value.trim(), tag: state.tag, sort };
}

/** What the server does without `sort`: best match for a query, newest otherwise. */
function defaultSort(q: string): SearchState["sort"] {
  return q ? "relevance" : "newest";
}

function syncControls(): void {
  input.value = state.q;
  sortSelect.value = state.sort || defaultSort(state.q);
  document.title = state.q ? `${state.q} – Reelay` : state.tag ? `#${state.tag} – Reelay` : "Reelay";
  renderActiveFilter();
}

function renderActiveFilter(): void {
  activeFilter.hidden = !state.tag;
  if (!state.tag) {
    activeFilter.replaceChildren();
    return;
  }
  activeFilter.replaceChildren(
    h("span", {}, "Tagged ", h("strong", {}, `#${state.tag}`)),
    h("a", { class: "button", href: stateUrl({ ...state, tag: "" }) }, "Show all videos"),
  );
}

async function load(append = false): Promise<void> {
  inflight?.abort();
  const controller = new AbortController();
  inflight = controller;
  results.setAttribute("aria-busy", "true");
  more.disabled = true;
  try {
    const page = await searchVideos(
      {
        q: state.q,
        tag: state.tag,
        sort: state.sort || undefined,
        cursor: append ? (cursor ?? undefined) : undefined,
        limit: PAGE_SIZE,
      },
      controller.signal,
    );
    if (controller.signal.aborted) return;
    render(page.items, append);
    cursor = page.nextCursor;
  } catch (err) {
    if (isAbort(err) || controller.signal.aborted) return;
    if (!append) results.replaceChildren();
    empty.hidden = false;
    showError(empty, err, "Could not load videos.");
    status.textContent = "";
    cursor = null;
  } finally {
    if (inflight === controller) {
      results.removeAttribute("aria-busy");
      more.disabled = false;
      more.hidden = cursor === null;
    }
  }
}

function render(items: ListedVideo[], append: boolean): void {
  const now = Date.now();
  const cards = items.map((v) => videoCard(v, now));
  if (append) results.append(...cards);
  else results.replaceChildren(...cards);
  shown = append ? shown + items.length : items.length;
  // Keyboard users who pressed "More" continue from the first new video.
  if (append) cards[0]?.querySelector("a")?.focus();
  if (shown === 0) renderEmpty();
  else {
    empty.hidden = true;
    status.textContent = `${shown} video${shown === 1 ? "" : "s"}${state.q ? ` for “${state.q}”` : ""}`;
  }
}

function renderEmpty(): void {
  empty.hidden = false;
  status.textContent = "";
  const upload = h("a", { href: "/upload" }, "upload a video");
  if (state.q) {
    empty.replaceChildren(
      h("p", { class: "empty-title" }, h("strong", {}, `No videos match “${state.q}”.`)),
      h("p", {}, "Check the spelling, try fewer or different words, or ", upload, "."),
    );
  } else if (state.tag) {
    empty.replaceChildren(
      h("p", { class: "empty-title" }, h("strong", {}, `No videos are tagged “${state.tag}”.`)),
      h("p", {}, h("a", { href: "/" }, "Show all videos"), " or ", upload, "."),
    );
  } else {
    empty.replaceChildren(
      h("p", { class: "empty-title" }, h("strong", {}, "No videos yet.")),
      h(
        "p",
        {},
        "Be the first: ",
        h("a", { href: "/upload" }, "upload a video"),
        ". It appears here once it has been processed.",
      ),
    );
  }
}

async function loadPopularTags(): Promise<void> {
  try {
    const { tags } = await listTags();
    const list = tagList(
      tags.slice(0, 12).map((t) => t.tag),
      "Popular tags",
    );
    popularTags.hidden = list === null;
    if (list) popularTags.replaceChildren(list);
  } catch {
    popularTags.hidden = true; // Only a shortcut; search works without it.
  }
}

function apply(next: SearchState, mode: "replace" | "push"): void {
  clearTimeout(debounce);
  const changed = stateUrl(next) !== stateUrl(state);
  if (mode === "push") pushUrl(next);
  else replaceUrl(next);
  if (!changed) return;
  state = next;
  sortSelect.value = state.sort || defaultSort(state.q);
  document.title = state.q ? `${state.q} – Reelay` : "Reelay";
  cursor = null;
  void load();
}

input.addEventListener("input", () => {
  clearTimeout(debounce);
  debounce = setTimeout(() => apply(current(), "replace"), DEBOUNCE_MS);
});
form.addEventListener("submit", (event) => {
  event.preventDefault();
  apply(current(), "push");
});
sortSelect.addEventListener("change", () => apply(current(sortSelect.value as SearchState["sort"]), "push"));
more.addEventListener("click", () => void load(true));
window.addEventListener("popstate", () => {
  adoptCurrentUrl();
  state = readState();
  syncControls();
  cursor = null;
  void load();
});

syncControls();
void load();
void loadPopularTags();

/**
 * The search lives in the URL (`/?q=…&tag=…&sort=…`) so results can be
 * shared and the back button works. While someone types, the current history
 * entry is rewritten; pressing Enter makes a new entry (the one before it is
 * first put back as it was, so Back returns to the previous search).
 */
import { isSort, type Sort } from "../../../worker/contracts/vocabulary.ts";

export type SearchState = { q: string; tag: string; sort: Sort | "" };

export function readState(search = location.search): SearchState {
  const p = new URLSearchParams(search);
  const sort = p.get("sort") ?? "";
  return {
    q: (p.get("q") ?? "").trim(),
    tag: (p.get("tag") ?? "").trim(),
    sort: isSort(sort) ? sort : "",
  };
}

export function stateUrl(s: SearchState): string {
  const p = new URLSearchParams();
  if (s.q) p.set("q", s.q);
  if (s.tag) p.set("tag", s.tag);
  if (s.sort) p.set("sort", s.sort);
  const qs = p.toString();
  return qs ? `/?${qs}` : "/";
}

/** The URL the current history entry had when it was made, before typing rewrote it. */
let committed = location.pathname + location.search;

export function replaceUrl(s: SearchState): void {
  const url = stateUrl(s);
  if (url !== location.pathname + location.search) history.replaceState(null, "", url);
}

export function pushUrl(s: SearchState): void {
  const url = stateUrl(s);
  if (url === committed) {
    replaceUrl(s);
    return;
  }
  if (location.pathname + location.search !== committed) history.replaceState(null, "", committed);
  history.pushState(null, "", url);
  committed = url;
}

/** After Back/Forward the browser is on an entry we made earlier: it is committed as is. */
export function adoptCurrentUrl(): void {
  committed = location.pathname + location.search;
}

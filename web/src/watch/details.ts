/**
 * The words under the player: title, when it was uploaded, description
 * (as text, line breaks kept by CSS) and tags linking to the tag's search.
 */
import type { Video } from "../../../worker/contracts/video.ts";
import { byId, h } from "../dom.ts";
import { formatAge, formatDuration } from "../format.ts";
import { tagUrl } from "../links.ts";

export function renderDetails(v: Video): void {
  byId("details").hidden = false;
  byId("video-title").textContent = v.title;
  document.title = `${v.title} – Reelay`;

  const meta: (string | Node)[] = [h("time", { datetime: v.createdAt }, `Uploaded ${formatAge(v.createdAt)}`)];
  const duration = formatDuration(v.durationSec);
  if (duration) meta.push(` · ${duration}`);
  if (v.width && v.height) meta.push(` · ${v.width}×${v.height}`);
  if (v.visibility === "unlisted") meta.push(" · ", h("span", { class: "badge" }, "Unlisted"));
  if (v.visibility === "private") meta.push(" · ", h("span", { class: "badge" }, "Private"));
  byId("video-meta").replaceChildren(...meta);

  const description = byId("video-description");
  description.textContent = v.description;
  description.hidden = v.description.trim() === "";

  // Offered once the owner allows downloads and they are made.
  const downloads = [
    v.playback.download ? h("a", { href: v.playback.download, download: "" }, "Download MP4") : null,
    v.playback.audioDownload ? h("a", { href: v.playback.audioDownload, download: "" }, "Download audio (M4A)") : null,
  ].filter((a) => a !== null);
  const slot = byId("video-downloads");
  slot.replaceChildren(...downloads.flatMap((a, i) => (i > 0 ? [" · ", a] : [a])));
  slot.hidden = downloads.length === 0;

  const tags = byId("video-tags");
  tags.replaceChildren(...v.tags.map((tag) => h("li", {}, h("a", { href: tagUrl(tag) }, `#${tag}`))));
  tags.hidden = v.tags.length === 0;
}

/**
 * The upload page: pick or drop files, describe them, press Upload. Files go
 * one after another (each with several chunks in flight), each with its own
 * card. Unfinished uploads from earlier visits are listed first, waiting for
 * the same file to be picked again.
 *
 * Opened from a direct upload link (`?direct=<capability>`, direct-link.ts),
 * the page takes a single file, creates its upload with the link instead of
 * a credential, and takes no other file once the link is spent.
 */
import "../styles/upload.css";
import { declaredType, notAVideoReason, VIDEO_ACCEPT } from "../../../worker/contracts/source-types.ts";
import type { UploadStatus } from "../../../worker/contracts/upload.ts";
import { titleFromFilename, type Visibility } from "../../../worker/contracts/vocabulary.ts";
import { getUploadStatus } from "../api.ts";
import { byId, h } from "../dom.ts";
import { formatBytes, parseTags } from "../format.ts";
import { ApiError } from "../http.ts";
import { listUploads, removeUpload, type StoredUpload } from "../upload-store.ts";
import { directCapability } from "./direct-link.ts";
import { UploadCard } from "./upload-card.ts";

const form = byId<HTMLFormElement>("upload-form");
const fileInput = byId<HTMLInputElement>("files");
const dropzone = byId("dropzone");
const selection = byId("selection");
const titleInput = byId<HTMLInputElement>("title");
const titleHint = byId("title-hint");
const description = byId<HTMLTextAreaElement>("description");
const tags = byId<HTMLInputElement>("tags");
const visibility = byId<HTMLSelectElement>("visibility");
const formError = byId("form-error");
const list = byId<HTMLUListElement>("upload-list");
const unfinishedSection = byId("unfinished");
const unfinishedList = byId<HTMLUListElement>("unfinished-list");
const uploadButton = byId<HTMLButtonElement>("upload-button");
const direct = directCapability(location.search);

// Video files the system types as something else (.ts, .mts) are offered too; the pure list lives with the API's rule.
fileInput.accept = VIDEO_ACCEPT;
if (direct) {
  fileInput.multiple = false;
  byId("page-heading").textContent = "Upload a video";
  byId("direct-note").hidden = false;
  byId("dropzone-title").textContent = "Drop a video file here";
  byId("files-label").textContent = "Choose a video file";
  selection.textContent =
    "One video file: this link takes a single upload. Large files upload in parts and can be resumed.";
}
const selectionHint = selection.textContent ?? "";
let staged: File[] = [];
/** The title we filled in, so a title the person typed is never overwritten. */
let autoTitle = "";
const cards: UploadCard[] = [];
const queue: UploadCard[] = [];

/**
 * Takes the videos among `files`; every other file is left out and listed
 * with the reason the API and the transcoder would give ("song.mp3: The file
 * has no video stream (audio only)."), so nothing is sent only to be refused.
 */
function stage(files: File[]): void {
  if (direct && files.length > 1) {
    staged = [];
    formError.hidden = false;
    formError.textContent = "This upload link takes a single video: choose one file.";
    selection.textContent = selectionHint;
    return;
  }
  const refused = files.flatMap((file) => {
    const reason = notAVideoReason(declaredType(file));
    return reason ? [{ file, reason }] : [];
  });
  staged = files.filter((f) => !refused.some((r) => r.file === f));
  formError.hidden = refused.length === 0;
  formError.replaceChildren(
    ...refused.map(({ file, reason }) => h("span", { class: "refused-file" }, `${file.name}: ${reason}`)),
  );
  if (staged.length === 0) {
    selection.textContent = selectionHint;
  } else {
    const total = staged.reduce((sum, f) => sum + f.size, 0);
    selection.textContent =
      staged.length === 1
        ? `${staged[0].name} (${formatBytes(total)})`
        : `${staged.length} files (${formatBytes(total)}): ${staged.map((f) => f.name).join(", ")}`;
  }
  const typed = titleInput.value.trim() !== "" && titleInput.value !== autoTitle;
  if (staged.length === 1) {
    if (!typed) titleInput.value = autoTitle = titleFromFilename(staged[0].name);
    titleInput.placeholder = "";
    titleHint.textContent = "Taken from the file name; change it if you like.";
  } else if (staged.length > 1) {
    if (!typed) titleInput.value = autoTitle = "";
    titleInput.placeholder = "Each file's name";
    titleHint.textContent = "Leave empty to title each video from its file name, or type one title for all.";
  }
}

function addCard(card: UploadCard, to: HTMLUListElement): void {
  cards.push(card);
  card.onIdle = pump;
  // A resumed upload is no longer "unfinished": it joins the others.
  card.onStart = () => {
    if (card.view.root.parentElement === unfinishedList) list.prepend(card.view.root);
    refreshUnfinished();
  };
  to.prepend(card.view.root);
}

/** One file at a time: the first video becomes watchable sooner than if all shared the connection. */
function pump(): void {
  if (cards.some((c) => c.state === "uploading")) return;
  const next = queue.shift();
  if (next && next.state === "queued") next.start();
  else if (next) pump();
  refreshUnfinished();
}

/**
 * A direct link makes one upload: the form takes no other file while the
 * link's upload stands, and again only if it refused this file for its size
 * or was cancelled before it was created.
 */
function spendLink(card: UploadCard): void {
  fileInput.disabled = uploadButton.disabled = true;
  selection.textContent = "This link's upload is below.";
  card.onIdle = () => {
    const unused = card.refused === "payload_too_large" || (card.state === "cancelled" && !card.videoId);
    if (unused) {
      fileInput.disabled = uploadButton.disabled = false;
      selection.textContent = selectionHint;
    }
    pump();
  };
}

function refreshUnfinished(): void {
  unfinishedSection.hidden = unfinishedList.querySelector(".upload-card:not([data-state='cancelled'])") === null;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (staged.length === 0) {
    formError.hidden = false;
    formError.textContent = "Choose one or more video files first.";
    fileInput.focus();
    return;
  }
  formError.hidden = true;
  const files = staged;
  const shared = {
    description: description.value.trim(),
    tags: parseTags(tags.value),
    visibility: visibility.value as Visibility,
  };
  const title = titleInput.value.trim();
  form.reset();
  stage([]);
  autoTitle = "";
  for (const file of files) {
    // The same file as an unfinished upload: carry that one on instead of starting again.
    const earlier = cards.filter((c) => c.mayBe(file));
    let resumed = false;
    for (const card of earlier) if (!resumed) resumed = await card.offerFile(file);
    if (resumed) continue;
    const card = UploadCard.forFile(file, { ...shared, title: title || titleFromFilename(file.name) }, direct);
    addCard(card, list);
    queue.push(card);
    if (direct) spendLink(card);
  }
  pump();
});

fileInput.addEventListener("change", () => stage([...(fileInput.files ?? [])]));

// Drag and drop onto the zone; anywhere else a dropped file would replace the page, losing uploads.
for (const type of ["dragover", "drop"] as const) window.addEventListener(type, (e) => e.preventDefault());
dropzone.addEventListener("dragenter", () => dropzone.classList.add("dragging"));
dropzone.addEventListener("dragover", (e) => {
  e.preventDefault();
  if (e.dataTransfer) e.dataTransfer.dropEffect = "copy";
  dropzone.classList.add("dragging");
});
dropzone.addEventListener("dragleave", (e) => {
  if (!dropzone.contains(e.relatedTarget as Node | null)) dropzone.classList.remove("dragging");
});
dropzone.addEventListener("drop", (e) => {
  e.preventDefault();
  dropzone.classList.remove("dragging");
  const files = [...(e.dataTransfer?.files ?? [])];
  if (files.length === 0) return;
  // Mirror the drop in the input so what is shown and what is sent agree.
  if (e.dataTransfer) fileInput.files = e.dataTransfer.files;
  stage(files);
});

// The upload client retries through short outages; after a long one, carry on once back online.
window.addEventListener("online", () => {
  for (const c of cards) c.retryIfFailed();
});

async function restoreUnfinished(): Promise<void> {
  for (const rec of await listUploads()) {
    let status: UploadStatus | null = null;
    try {
      status = await getUploadStatus(rec.videoId, rec.uploadToken);
    } catch (err) {
      if (err instanceof ApiError && err.status >= 400 && err.status < 500) {
        await removeUpload(rec.videoId).catch(() => {}); // Expired or deleted: nothing left to resume.
        continue;
      }
      // Offline or the server is down: still offer it; resuming will tell.
    }
    restoreOne(rec, status);
  }
  refreshUnfinished();
}

function restoreOne(rec: StoredUpload, status: UploadStatus | null): void {
  if (status && status.status !== "uploading") {
    void removeUpload(rec.videoId).catch(() => {});
    if (status.status === "aborted" || status.status === "expired") return;
    // It finished before the page closed: show where processing is.
    const card = UploadCard.forStored(rec, status);
    addCard(card, list);
    card.followProcessing();
    return;
  }
  addCard(UploadCard.forStored(rec, status), unfinishedList);
}

void restoreUnfinished();

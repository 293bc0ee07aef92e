/**
 * Edit and Delete, for the person whose browser holds the upload token
 * (saved by the upload page). Editing happens inline, in place of the
 * description; deleting asks first, then leaves for the home page.
 */
import type { Video } from "../../../worker/contracts/video.ts";
import type { Visibility } from "../../../worker/contracts/vocabulary.ts";
import { deleteVideo, errorMessage, updateVideo } from "../api.ts";
import { byId, h } from "../dom.ts";
import { parseTags } from "../format.ts";
import { ApiError } from "../http.ts";
import { forgetOwner } from "../owner-tokens.ts";

export function mountOwnerTools(
  video: Video,
  token: string,
  onUpdated: (v: Video) => void,
  /** Where the player is, in seconds: "Use as poster" takes the frame there. */
  currentTime: () => number,
): void {
  const tools = byId("owner-tools");
  const edit = h("button", { type: "button", "aria-expanded": "false", "aria-controls": "edit-slot" }, "Edit");
  const poster = h(
    "button",
    { type: "button", title: "Make the frame at the player's time the poster" },
    "Use as poster",
  );
  const remove = h("button", { type: "button", class: "danger" }, "Delete");
  tools.replaceChildren(edit, poster, remove);
  tools.hidden = false;

  let current = video;

  // The ladder's frames are every 2 s; the poster is the one nearest the player's time.
  poster.addEventListener("click", async () => {
    poster.disabled = true;
    try {
      current = await updateVideo(current.id, token, { posterTime: Math.round(currentTime() * 1000) / 1000 });
      onUpdated(current);
      alertIn(tools, "The poster is now the frame at this time.", "status");
    } catch (err) {
      alertIn(tools, `Could not set the poster: ${errorMessage(err)}`);
    } finally {
      poster.disabled = false;
    }
  });
  const slot = byId("edit-slot");

  const close = () => {
    slot.replaceChildren();
    edit.setAttribute("aria-expanded", "false");
    edit.disabled = false;
    byId("video-description").hidden = current.description.trim() === "";
  };

  edit.addEventListener("click", () => {
    edit.setAttribute("aria-expanded", "true");
    edit.disabled = true;
    byId("video-description").hidden = true;
    const form = editForm(
      current,
      token,
      (v) => {
        current = v;
        onUpdated(v);
        close();
        edit.focus();
      },
      () => {
        close();
        edit.focus();
      },
    );
    slot.replaceChildren(form);
    form.querySelector("input")?.focus();
  });

  remove.addEventListener("click", async () => {
    if (!confirm(`Delete “${current.title}”? This cannot be undone.`)) return;
    remove.disabled = true;
    try {
      await deleteVideo(current.id, token);
    } catch (err) {
      remove.disabled = false;
      if (!(err instanceof ApiError && err.code === "not_found")) {
        alertIn(tools, `Could not delete: ${errorMessage(err)}`);
        return;
      }
    }
    forgetOwner(current.id);
    location.assign("/");
  });
}

function editForm(v: Video, token: string, saved: (v: Video) => void, cancelled: () => void): HTMLFormElement {
  const field = (id: string, label: string, control: HTMLElement, hint?: string) =>
    h(
      "div",
      { class: "field" },
      h("label", { for: id }, label),
      control,
      hint ? h("p", { class: "hint" }, hint) : null,
    );
  const title = h("input", { id: "edit-title", type: "text", maxlength: 200, required: true });
  title.value = v.title;
  const description = h("textarea", { id: "edit-description", maxlength: 5000, rows: 5 });
  description.value = v.description;
  const tags = h("input", { id: "edit-tags", type: "text", autocomplete: "off" });
  tags.value = v.tags.join(", ");
  const visibility = h(
    "select",
    { id: "edit-visibility" },
    h("option", { value: "public" }, "Public"),
    h("option", { value: "unlisted" }, "Unlisted"),
    h("option", { value: "private" }, "Private"),
  );
  visibility.value = v.visibility;
  const downloadable = h("input", { id: "edit-downloadable", type: "checkbox" });
  downloadable.checked = v.downloadable;
  const error = h("p", { class: "error", role: "alert", hidden: true });
  const save = h("button", { type: "submit", class: "primary" }, "Save");
  const cancel = h("button", { type: "button" }, "Cancel");

  const form = h(
    "form",
    { class: "edit-form panel", "aria-label": "Edit video" },
    field("edit-title", "Title", title),
    field("edit-description", "Description", description),
    h(
      "div",
      { class: "field-row" },
      field("edit-tags", "Tags", tags, "Separate tags with commas"),
      field("edit-visibility", "Visibility", visibility),
    ),
    h(
      "div",
      { class: "field checkbox-field" },
      downloadable,
      h("label", { for: "edit-downloadable" }, "Allow downloads (MP4 and audio), made once processing is done"),
    ),
    error,
    h("div", { class: "form-actions" }, save, cancel),
  );
  cancel.addEventListener("click", cancelled);
  form.addEventListener("keydown", (e) => {
    if (e.key === "Escape") cancelled();
  });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!title.value.trim()) {
      error.hidden = false;
      error.textContent = "The title cannot be empty.";
      title.focus();
      return;
    }
    save.disabled = true;
    try {
      saved(
        await updateVideo(v.id, token, {
          title: title.value.trim(),
          description: description.value,
          tags: parseTags(tags.value),
          visibility: visibility.value as Visibility,
          downloadable: downloadable.checked,
        }),
      );
    } catch (err) {
      save.disabled = false;
      error.hidden = false;
      error.textContent =
        err instanceof ApiError && (err.code === "missing_token" || err.code === "invalid_token")
          ? "This browser's owner key was not accepted, so the video cannot be changed from here."
          : `Could not save: ${errorMessage(err)}`;
    }
  });
  return form;
}

function alertIn(parent: HTMLElement, text: string, role: "alert" | "status" = "alert"): void {
  parent.querySelector(".error, .notice")?.remove();
  parent.append(h("p", { class: role === "alert" ? "error" : "notice", role }, text));
}

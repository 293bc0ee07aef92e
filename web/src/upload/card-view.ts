/**
 * The DOM of one upload card: title, file, progress bar, numbers, status
 * line and buttons. The controller (upload-card.ts) decides; this only shows.
 * Percent, speed and time left change several times a second and are not
 * announced; the status line says what is happening (paused, done, failed)
 * and a hidden live region announces progress in 10 % steps, so screen
 * readers hear the news without being flooded.
 */
import { h } from "../dom.ts";
import { formatBytes, formatPercent } from "../format.ts";

export type Action = { label: string; onClick: () => void; primary?: boolean; danger?: boolean };

export class CardView {
  readonly root: HTMLLIElement;
  readonly progress: HTMLProgressElement;
  private readonly titleEl: HTMLHeadingElement;
  private readonly percentEl: HTMLSpanElement;
  private readonly bytesEl: HTMLSpanElement;
  private readonly speedEl: HTMLSpanElement;
  private readonly etaEl: HTMLSpanElement;
  private readonly statusEl: HTMLParagraphElement;
  private readonly announcer: HTMLParagraphElement;
  private readonly actionsEl: HTMLDivElement;
  private readonly extraEl: HTMLDivElement;
  private lastAnnouncedStep = -1;

  constructor(title: string, filename: string, size: number) {
    this.titleEl = h("h3", { class: "upload-card-title" }, title);
    this.progress = h("progress", { max: 1, value: 0, "aria-label": `Progress of ${title}` });
    this.percentEl = h("span", { class: "percent" }, "0%");
    this.bytesEl = h("span", { class: "bytes" });
    this.speedEl = h("span", { class: "speed" });
    this.etaEl = h("span", { class: "eta" });
    this.statusEl = h("p", { class: "upload-status", role: "status" });
    this.announcer = h("p", { class: "visually-hidden", "aria-live": "polite" });
    this.actionsEl = h("div", { class: "upload-actions" });
    this.extraEl = h("div", { class: "upload-extra" });
    this.root = h(
      "li",
      { class: "upload-card panel" },
      h(
        "div",
        { class: "upload-card-head" },
        this.titleEl,
        h("p", { class: "upload-card-file" }, `${filename} · ${formatBytes(size)}`),
      ),
      this.progress,
      h("p", { class: "upload-stats" }, this.percentEl, this.bytesEl, this.speedEl, this.etaEl),
      this.statusEl,
      this.announcer,
      this.extraEl,
      this.actionsEl,
    );
  }

  setState(state: string): void {
    this.root.dataset.state = state;
  }

  setTitle(title: string): void {
    this.titleEl.textContent = title;
    this.progress.setAttribute("aria-label", `Progress of ${title}`);
  }

  /** Fraction 0..1, or null for an indeterminate bar (waiting for the server). */
  setFraction(fraction: number | null): void {
    if (fraction === null) {
      this.progress.removeAttribute("value");
      this.percentEl.textContent = "";
      return;
    }
    this.progress.value = fraction;
    this.percentEl.textContent = formatPercent(fraction);
  }

  setNumbers(bytes: string, speed: string, eta: string): void {
    this.bytesEl.textContent = bytes;
    this.speedEl.textContent = speed;
    this.etaEl.textContent = eta;
  }

  status(text: string, isError = false): void {
    this.statusEl.textContent = text;
    this.statusEl.classList.toggle("error", isError);
    this.statusEl.setAttribute("role", isError ? "alert" : "status");
  }

  /** Announces progress in 10 % steps to screen readers. */
  announceStep(prefix: string, fraction: number): void {
    const step = Math.floor(fraction * 10);
    if (step === this.lastAnnouncedStep) return;
    this.lastAnnouncedStep = step;
    this.announcer.textContent = `${prefix} ${formatPercent(step / 10)}`;
  }

  resetAnnouncements(): void {
    this.lastAnnouncedStep = -1;
  }

  actions(list: Action[]): void {
    const focusedLabel = this.actionsEl.contains(document.activeElement) ? document.activeElement?.textContent : null;
    this.actionsEl.replaceChildren(
      ...list.map((a) => {
        const button = h(
          "button",
          { type: "button", class: a.primary ? "primary" : a.danger ? "danger" : undefined },
          a.label,
        );
        button.addEventListener("click", a.onClick);
        return button;
      }),
    );
    // Pause → Resume swaps the button under the keyboard user's focus: keep focus in the card.
    if (focusedLabel !== null && focusedLabel !== undefined) {
      const buttons = [...this.actionsEl.querySelectorAll("button")];
      (buttons.find((b) => b.textContent === focusedLabel) ?? buttons[0])?.focus();
    }
  }

  /** Extra content under the status: the re-pick input, or the watch link. */
  extra(...nodes: Node[]): void {
    this.extraEl.replaceChildren(...nodes);
  }
}

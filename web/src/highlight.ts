/**
 * Search highlights arrive as server-escaped HTML whose only markup is
 * `<mark>`. Rather than trusting that with innerHTML, the string is split on
 * the mark tags, each piece is unescaped, and the pieces go in as text nodes
 * inside <mark> elements we create: nothing else can ever become markup.
 */

const NAMED: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: "\u00a0" };

/** Undoes HTML escaping of text (named basics plus numeric references); unknown entities stay as written. */
export function unescapeHtml(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, ref: string) => {
    if (ref[0] === "#") {
      const code = ref[1] === "x" || ref[1] === "X" ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return NAMED[ref.toLowerCase()] ?? whole;
  });
}

/** Fills `parent` with the highlighted text; returns the plain text it shows. */
export function renderHighlight(parent: HTMLElement, highlighted: string): string {
  parent.replaceChildren();
  let marked = false;
  let plain = "";
  for (const piece of highlighted.split(/(<mark>|<\/mark>)/i)) {
    const tag = piece.toLowerCase();
    if (tag === "<mark>") marked = true;
    else if (tag === "</mark>") marked = false;
    else if (piece) {
      const text = unescapeHtml(piece);
      plain += text;
      if (marked) {
        const mark = document.createElement("mark");
        mark.textContent = text;
        parent.append(mark);
      } else {
        parent.append(text);
      }
    }
  }
  return plain;
}

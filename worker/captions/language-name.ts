/**
 * The label a caption track gets when its owner gives none: the language's
 * name in that language (`Deutsch`, `Português (Brasil)`), as captions menus
 * list them, so each viewer finds their own. The tag itself when the runtime
 * knows no name for it.
 */
export function languageName(tag: string): string {
  try {
    const name = new Intl.DisplayNames([tag], { type: "language", fallback: "none" }).of(tag);
    // A playlist's NAME is a quoted string: no name of a language holds a quote, but a label must not.
    if (!name || name.includes('"')) return tag;
    return name.charAt(0).toLocaleUpperCase(tag) + name.slice(1);
  } catch {
    return tag;
  }
}

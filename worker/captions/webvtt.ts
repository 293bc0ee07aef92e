/**
 * Caption files as people upload them, WebVTT or SRT, read into cues and
 * written back as WebVTT, the one format HLS players take. Pure: no I/O.
 *
 * Reading is stricter than a browser's parser, which skips what it cannot
 * read without a word: an owner uploading a file wants to hear that line 14
 * has a comma where WebVTT wants a dot, not to find a cue missing later. Every
 * refusal is a `CaptionSyntaxError` naming the line (1-based, counted in the
 * file as sent). What is kept is kept as written: identifiers, cue settings,
 * cue text with its tags and entities, NOTE, STYLE and REGION blocks. What
 * changes: line endings become LF, timestamps are written `hh:mm:ss.mmm`, a
 * byte-order mark goes, NUL becomes U+FFFD (as WebVTT's own parser does), and
 * any `X-TIMESTAMP-MAP` header goes: the served file carries ours (playback).
 */

/** One cue; times in milliseconds from the start of the video. */
export type Cue = { id: string; start: number; end: number; settings: string; text: string };

/** The blocks of a WebVTT file after its header, in order. */
export type Block = { kind: "note" | "style" | "region"; lines: string[] } | { kind: "cue"; cue: Cue };

/** A caption file as read: the header (its first line is `WEBVTT…`), its blocks, and its cues alone. */
export type Captions = { header: string[]; blocks: Block[]; cues: Cue[] };

export type CaptionFormat = "vtt" | "srt";

export class CaptionSyntaxError extends Error {
  readonly line: number;
  constructor(line: number, problem: string) {
    super(`line ${line}: ${problem}`);
    this.line = line;
  }
}

/** `Content-Type`s that name a format; any other type (text/plain, octet-stream, none) is told by the content. */
const TYPES: Record<string, CaptionFormat> = {
  "text/vtt": "vtt",
  "application/x-subrip": "srt",
  "application/srt": "srt",
  "application/x-srt": "srt",
  "text/srt": "srt",
  "text/x-srt": "srt",
  "text/x-subrip": "srt",
};

/** The format a `Content-Type` names, or undefined when it names none. */
export function formatOfType(contentType: string | null | undefined): CaptionFormat | undefined {
  const essence = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  return TYPES[essence];
}

/** WebVTT when the file starts as one must; otherwise SRT, whose parser names the line that is not SRT. */
export function sniffFormat(text: string): CaptionFormat {
  return /^\uFEFF?WEBVTT(?:[ \t\r\n]|$)/.test(text) ? "vtt" : "srt";
}

/**
 * The file's text. WebVTT is UTF-8; SRT files also come as UTF-16 (with a
 * byte-order mark, which tells them apart). Text that is not UTF-8 is
 * refused at its first line that is not, rather than stored garbled.
 */
export function decodeCaptionBytes(bytes: Uint8Array): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder("utf-16le").decode(bytes);
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder("utf-16be").decode(bytes);
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    const lossy = new TextDecoder("utf-8").decode(bytes);
    const line = lossy.slice(0, lossy.indexOf("\uFFFD")).split(/\r\n|\r|\n/).length;
    throw new CaptionSyntaxError(line, "the file is not UTF-8 text; save it as UTF-8 and send it again");
  }
}

/** Reads a caption file in `format` (or the one its content shows) into WebVTT. */
export function readCaptions(text: string, format: CaptionFormat = sniffFormat(text)): Captions {
  return format === "vtt" ? parseWebVtt(text) : parseSrt(text);
}

/** The lines of a text, BOM dropped and NUL replaced; CRLF, CR and LF all end a line. */
function linesOf(text: string): string[] {
  return text
    .replace(/^\uFEFF/, "")
    .replaceAll("\0", "\uFFFD")
    .split(/\r\n|\r|\n/);
}

/** A run of lines up to a blank line, with the line number of its first. */
type Run = { first: number; lines: string[] };

/** Splits `lines` from index `from` into runs separated by lines that `isBlank`. */
function runsOf(lines: string[], from: number, isBlank: (line: string) => boolean): Run[] {
  const runs: Run[] = [];
  let current: Run | undefined;
  for (let i = from; i < lines.length; i++) {
    const line = lines[i]!;
    if (isBlank(line)) current = undefined;
    else if (current) current.lines.push(line);
    else {
      current = { first: i + 1, lines: [line] };
      runs.push(current);
    }
  }
  return runs;
}

const ARROW = "-->";
const WEBVTT_TIME = /^(?:(\d{2,}):)?([0-5]\d):([0-5]\d)\.(\d{3})$/;
const SRT_TIME = /^(?:(\d{1,}):)?([0-5]\d):([0-5]\d)[,.](\d{3})$/;

function timestamp(text: string, line: number, pattern: RegExp, example: string): number {
  const m = pattern.exec(text);
  if (!m) {
    const hint = pattern === WEBVTT_TIME && /\d,\d{3}$/.test(text) ? " (WebVTT has a dot before the milliseconds)" : "";
    throw new CaptionSyntaxError(line, `"${text}" is not a timestamp like ${example}${hint}`);
  }
  const [, h = "0", mm, ss, ms] = m;
  return ((Number(h) * 60 + Number(mm)) * 60 + Number(ss)) * 1000 + Number(ms);
}

/**
 * A cue timing line, `start --> end` and any cue settings. `pattern` is the
 * format's timestamp; SRT's optional `X1:… Y2:…` coordinates are dropped by
 * the caller, WebVTT's settings are kept as written.
 */
function timing(text: string, line: number, pattern: RegExp, example: string) {
  const m = /^[ \t]*(\S+?)[ \t]*-->[ \t]*(\S+)([ \t]+.*)?$/.exec(text);
  if (!m) throw new CaptionSyntaxError(line, `expected a cue timing line like ${example} --> ${example}`);
  const start = timestamp(m[1]!, line, pattern, example);
  const end = timestamp(m[2]!, line, pattern, example);
  if (end <= start) throw new CaptionSyntaxError(line, `the cue ends (${m[2]}) no later than it starts (${m[1]})`);
  return { start, end, rest: (m[3] ?? "").trim() };
}

function noArrowIn(run: Run, from: number, what: string): void {
  for (let i = from; i < run.lines.length; i++)
    if (run.lines[i]!.includes(ARROW))
      throw new CaptionSyntaxError(
        run.first + i,
        `${what} must not contain "-->" (is a blank line missing before the next cue?)`,
      );
}

/**
 * The most text one cue may hold. A caption is a line or two; a cue this long
 * is a file that lost its blank lines, and each cue is one row of the search
 * index, which D1 holds to 2 MB.
 */
export const MAX_CUE_CHARS = 16_384;

function cueNotTooLong(run: { first: number; lines: string[] }, from: number): void {
  const length = run.lines.slice(from).reduce((n, l) => n + l.length + 1, 0);
  if (length > MAX_CUE_CHARS)
    throw new CaptionSyntaxError(
      run.first + from,
      `a cue's text is over ${MAX_CUE_CHARS} characters: are blank lines missing between cues?`,
    );
}

/**
 * In SRT text, a `<` that opens none of the tags WebVTT shares with SRT
 * (`<i>`, `<b>`, `<u>`, and `<font>`, which players skip): escaped, since in
 * WebVTT `<3` or `<-` would start a tag and hide the rest of the line.
 */
const SRT_STRAY_LT = /<(?!\/?(?:i|b|u|font)(?:[\s>]|$))/gi;

/** A WebVTT file (https://www.w3.org/TR/webvtt1/). */
export function parseWebVtt(text: string): Captions {
  const lines = linesOf(text);
  if (!/^WEBVTT(?:[ \t].*)?$/.test(lines[0]!))
    throw new CaptionSyntaxError(1, 'a WebVTT file starts with the line "WEBVTT"');
  const header = [lines[0]!];
  let i = 1;
  for (; i < lines.length && lines[i] !== ""; i++) {
    const line = lines[i]!;
    if (line.includes(ARROW))
      throw new CaptionSyntaxError(i + 1, "a blank line must end the header before the first cue");
    if (!line.startsWith("X-TIMESTAMP-MAP=")) header.push(line);
  }
  const blocks: Block[] = [];
  const cues: Cue[] = [];
  for (const run of runsOf(lines, i, (l) => l === "")) {
    const first = run.lines[0]!;
    const kind = /^NOTE(?:[ \t]|$)/.test(first)
      ? "note"
      : /^STYLE[ \t]*$/.test(first)
        ? "style"
        : /^REGION[ \t]*$/.test(first)
          ? "region"
          : "cue";
    if (kind !== "cue") {
      if (kind !== "note" && cues.length > 0)
        throw new CaptionSyntaxError(run.first, `${kind.toUpperCase()} blocks must come before the first cue`);
      noArrowIn(run, 0, `a ${kind.toUpperCase()} block`);
      blocks.push({ kind, lines: run.lines });
      continue;
    }
    const at = first.includes(ARROW) ? 0 : 1;
    if (at >= run.lines.length)
      throw new CaptionSyntaxError(run.first, "expected a cue timing line like 00:00:01.000 --> 00:00:04.000");
    const { start, end, rest } = timing(run.lines[at]!, run.first + at, WEBVTT_TIME, "00:00:01.000");
    noArrowIn(run, at + 1, "cue text");
    cueNotTooLong(run, at + 1);
    const cue = {
      id: at === 1 ? first : "",
      start,
      end,
      settings: rest
        .split(/[ \t]+/)
        .filter(Boolean)
        .join(" "),
      text: run.lines.slice(at + 1).join("\n"),
    };
    blocks.push({ kind: "cue", cue });
    cues.push(cue);
  }
  return { header, blocks, cues };
}

/**
 * An SRT file: blocks of an optional counter, a timing line with a comma
 * before the milliseconds, and the text. Lines of only spaces separate
 * blocks too, as SRT players read them. The counter is kept as the cue's
 * identifier; the text's HTML-like tags (`<i>`, `<b>`, `<u>`) are WebVTT's
 * too, and a `<` that opens no tag is escaped, since in WebVTT it would.
 */
export function parseSrt(text: string): Captions {
  const blocks: Block[] = [];
  const cues: Cue[] = [];
  for (const run of runsOf(linesOf(text), 0, (l) => l.trim() === "")) {
    const counted = /^\s*\d+\s*$/.test(run.lines[0]!) && run.lines.length > 1;
    const at = counted ? 1 : 0;
    const line = run.first + at;
    if (!run.lines[at]!.includes(ARROW))
      throw new CaptionSyntaxError(line, "expected an SRT timing line like 00:00:01,000 --> 00:00:04,000");
    const { start, end } = timing(run.lines[at]!, line, SRT_TIME, "00:00:01,000");
    noArrowIn(run, at + 1, "cue text");
    cueNotTooLong(run, at + 1);
    const cue = {
      id: counted ? run.lines[0]!.trim() : "",
      start,
      end,
      settings: "",
      text: run.lines
        .slice(at + 1)
        .map((l) => l.replace(SRT_STRAY_LT, "&lt;"))
        .join("\n"),
    };
    blocks.push({ kind: "cue", cue });
    cues.push(cue);
  }
  if (cues.length === 0)
    throw new CaptionSyntaxError(
      1,
      'no SRT cue, nor the line "WEBVTT" a WebVTT file starts with: is this a caption file?',
    );
  return { header: ["WEBVTT"], blocks, cues };
}

/** `hh:mm:ss.mmm`, the WebVTT timestamp every reader takes. */
export function formatTimestamp(ms: number): string {
  const pad = (n: number, width = 2) => String(n).padStart(width, "0");
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor(ms / 60_000) % 60;
  const s = Math.floor(ms / 1000) % 60;
  return `${pad(h)}:${pad(m)}:${pad(s)}.${pad(ms % 1000, 3)}`;
}

/** The captions as a WebVTT file, LF line endings, blocks one blank line apart. */
export function writeWebVtt({ header, blocks }: Captions): string {
  const parts = [header.join("\n")];
  for (const block of blocks) {
    if (block.kind !== "cue") parts.push(block.lines.join("\n"));
    else {
      const { id, start, end, settings, text } = block.cue;
      const timingLine = `${formatTimestamp(start)} --> ${formatTimestamp(end)}${settings ? ` ${settings}` : ""}`;
      parts.push([...(id ? [id] : []), timingLine, ...(text ? [text] : [])].join("\n"));
    }
  }
  return `${parts.join("\n\n")}\n`;
}

const ENTITIES: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  nbsp: " ",
  lrm: "",
  rlm: "",
};

/**
 * What a cue says, for search: its tags (`<i>`, `<v Speaker>`, `<00:01.000>`)
 * dropped, entities read, lines joined by spaces.
 */
export function cuePlainText(text: string): string {
  return text
    .replace(/<[^>\n]*>/g, "")
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, ref: string) => {
      if (ref[0] !== "#") return ENTITIES[ref.toLowerCase()] ?? whole;
      const code = ref[1] === "x" || ref[1] === "X" ? Number.parseInt(ref.slice(2), 16) : Number(ref.slice(1));
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    })
    .replace(/\s+/g, " ")
    .trim();
}

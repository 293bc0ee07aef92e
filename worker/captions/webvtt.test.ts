// Caption files as owners send them, read and written back as WebVTT: what
// is kept as written, what SRT becomes, and the line every refusal names.
import { describe, expect, it } from "vitest";
import {
  CaptionSyntaxError,
  cuePlainText,
  decodeCaptionBytes,
  formatOfType,
  readCaptions,
  sniffFormat,
  writeWebVtt,
} from "./webvtt.ts";

/** The file read and written back, as a player would get it. */
const roundTrip = (text: string, format?: "vtt" | "srt") => writeWebVtt(readCaptions(text, format));

/** The refusal's line and message, or a failure if the file was taken. */
function refusal(text: string, format?: "vtt" | "srt"): { line: number; message: string } {
  try {
    readCaptions(text, format);
  } catch (err) {
    if (err instanceof CaptionSyntaxError) return { line: err.line, message: err.message };
    throw err;
  }
  throw new Error("the file was taken");
}

describe("WebVTT", () => {
  it("keeps identifiers, cue settings, tags, entities and NOTE, STYLE and REGION blocks as written", () => {
    const file = [
      "WEBVTT - Harbour tour",
      "Kind: captions",
      "",
      "REGION",
      "id:bottom width:40% lines:3",
      "",
      "STYLE",
      "::cue { color: yellow }",
      "",
      "NOTE a note",
      "over two lines",
      "",
      "intro",
      "00:01.000 --> 00:04.500 align:start   line:0 region:bottom",
      "<v Captain>Welcome <b>aboard</b> &amp; mind the <i>gap</i>",
      "second line",
      "",
      "01:02:03.004 --> 01:02:05.000",
      "Later",
      "",
    ].join("\n");
    expect(roundTrip(file)).toBe(
      [
        "WEBVTT - Harbour tour",
        "Kind: captions",
        "",
        "REGION",
        "id:bottom width:40% lines:3",
        "",
        "STYLE",
        "::cue { color: yellow }",
        "",
        "NOTE a note",
        "over two lines",
        "",
        "intro",
        "00:00:01.000 --> 00:00:04.500 align:start line:0 region:bottom",
        "<v Captain>Welcome <b>aboard</b> &amp; mind the <i>gap</i>",
        "second line",
        "",
        "01:02:03.004 --> 01:02:05.000",
        "Later",
        "",
      ].join("\n"),
    );
    expect(readCaptions(file).cues.map((c) => [c.id, c.start, c.end])).toEqual([
      ["intro", 1000, 4500],
      ["", 3_723_004, 3_725_000],
    ]);
  });

  it("reads a byte-order mark, CRLF and CR line endings, many blank lines and cues without text", () => {
    const file = "\uFEFFWEBVTT\r\n\r\n\r\n00:00.000 --> 00:01.000\r\n\r\n00:01.000 --> 00:02.000\rHi\r";
    const { cues } = readCaptions(file);
    expect(cues.map((c) => [c.start, c.end, c.text])).toEqual([
      [0, 1000, ""],
      [1000, 2000, "Hi"],
    ]);
    expect(roundTrip(file)).toBe("WEBVTT\n\n00:00:00.000 --> 00:00:01.000\n\n00:00:01.000 --> 00:00:02.000\nHi\n");
  });

  it("drops an X-TIMESTAMP-MAP header, which playback writes itself, and turns NUL into U+FFFD", () => {
    const file = "WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:900000,LOCAL:00:00:00.000\n\n00:00.000 --> 00:01.000\na\u0000b\n";
    expect(roundTrip(file)).toBe("WEBVTT\n\n00:00:00.000 --> 00:00:01.000\na\uFFFDb\n");
  });

  it.each([
    ["a file without the WEBVTT line", "WEBVTTX\n\n00:00.000 --> 00:01.000\nhi\n", 1, /starts with the line "WEBVTT"/],
    ["an SRT comma in a WebVTT timestamp", "WEBVTT\n\n00:00:01,000 --> 00:00:02.000\nhi\n", 3, /dot before/],
    ["minutes past 59", "WEBVTT\n\n00:60.000 --> 01:01.000\nhi\n", 3, /not a timestamp/],
    ["two digits of milliseconds", "WEBVTT\n\n00:01.00 --> 00:02.000\nhi\n", 3, /not a timestamp/],
    ["a cue that ends before it starts", "WEBVTT\n\nx\n00:05.000 --> 00:04.000\nhi\n", 4, /no later than/],
    ["a block that is not a cue", "WEBVTT\n\nhello\nthere\n", 4, /timing line/],
    ["a missing blank line between cues", "WEBVTT\n\n00:01.000 --> 00:02.000\nhi\n00:03.000 --> 00:04.000\n", 5, /-->/],
    ["a cue right after the header", "WEBVTT\n00:01.000 --> 00:02.000\nhi\n", 2, /blank line must end the header/],
    [
      "a STYLE block after a cue",
      "WEBVTT\n\n00:01.000 --> 00:02.000\nhi\n\nSTYLE\n::cue {}\n",
      6,
      /before the first cue/,
    ],
  ])("refuses %s, naming the line", (_, file, line, message) => {
    const found = refusal(file, "vtt");
    expect(found.line).toBe(line);
    expect(found.message).toMatch(new RegExp(`^line ${line}: `));
    expect(found.message).toMatch(message);
  });

  it("counts lines as the file has them, whatever its line endings", () => {
    expect(refusal("WEBVTT\r\n\r\n00:01.000 --> 00:02.000\r\nok\r\n\r\nbroken\r\n").line).toBe(6);
  });
});

describe("SRT", () => {
  it("becomes WebVTT: counters as identifiers, a dot before the milliseconds, tags kept, a stray < escaped", () => {
    const srt = [
      "1",
      "00:00:01,000 --> 00:00:04,000",
      "<i>Hello</i> there",
      "1 < 2 & so on, I <3 you, <- this way, <i>>",
      "",
      "2",
      "00:00:05,500 --> 00:00:07,250 X1:10 X2:100 Y1:10 Y2:50",
      "Second",
      "",
    ].join("\n");
    expect(roundTrip(srt, "srt")).toBe(
      [
        "WEBVTT",
        "",
        "1",
        "00:00:01.000 --> 00:00:04.000",
        "<i>Hello</i> there",
        "1 &lt; 2 & so on, I &lt;3 you, &lt;- this way, <i>>",
        "",
        "2",
        "00:00:05.500 --> 00:00:07.250",
        "Second",
        "",
      ].join("\n"),
    );
  });

  it("refuses a cue too long to be a caption, naming its line", () => {
    const srt = `1\n00:00:01,000 --> 00:00:02,000\n${"word ".repeat(4000)}\n`;
    expect(() => readCaptions(srt)).toThrow(/line 3: a cue's text is over 16384 characters/);
  });

  it("takes a BOM, CRLF, lines of spaces between blocks, blocks without a counter and long hours", () => {
    const srt = "\uFEFF1\r\n00:00:01,000 --> 00:00:02,000\r\nOne\r\n   \r\n100:00:00,000 --> 100:00:01,000\r\nFar\r\n";
    expect(readCaptions(srt).cues.map((c) => [c.id, c.start, c.text])).toEqual([
      ["1", 1000, "One"],
      ["", 360_000_000, "Far"],
    ]);
  });

  it.each([
    ["a missing timing line", "1\n00:00:01,000 --> 00:00:02,000\nOne\n\n2\nTwo\n", 6, /SRT timing line/],
    [
      "a malformed timestamp",
      "1\n00:00:01,000 --> 00:00:02,000\nOne\n\n2\n00:00:03 --> 00:00:04,000\nTwo\n",
      6,
      /"00:00:03"/,
    ],
    ["text that is not captions at all", "hello\n", 1, /SRT timing line/],
    ["an empty file", "", 1, /no SRT cue/],
  ])("refuses %s, naming the line", (_, file, line, message) => {
    const found = refusal(file, "srt");
    expect({ line: found.line, message: found.message }).toEqual({ line, message: expect.stringMatching(message) });
  });
});

describe("telling formats apart", () => {
  it("follows the declared type, and the content when the type is generic", () => {
    expect(formatOfType("text/vtt; charset=utf-8")).toBe("vtt");
    expect(formatOfType("application/x-subrip")).toBe("srt");
    expect(formatOfType("text/srt")).toBe("srt");
    expect(formatOfType("text/plain")).toBeUndefined();
    expect(formatOfType(undefined)).toBeUndefined();
    expect(sniffFormat("\uFEFFWEBVTT\n")).toBe("vtt");
    expect(sniffFormat("WEBVTT - title\n")).toBe("vtt");
    expect(sniffFormat("1\n00:00:01,000 --> 00:00:02,000\nhi\n")).toBe("srt");
  });

  it("decodes UTF-8 and UTF-16 with a byte-order mark, and refuses other bytes at their line", () => {
    const utf16 = new Uint8Array([0xff, 0xfe, ...[..."WEBVTT\n"].flatMap((ch) => [ch.charCodeAt(0), 0])]);
    expect(decodeCaptionBytes(utf16)).toBe("WEBVTT\n");
    expect(decodeCaptionBytes(new TextEncoder().encode("WEBVTT\n\ncafé"))).toBe("WEBVTT\n\ncafé");
    const latin1 = new Uint8Array([...new TextEncoder().encode("1\n00:00:01,000 --> 00:00:02,000\ncaf"), 0xe9, 0x0a]);
    expect(() => decodeCaptionBytes(latin1)).toThrow(/^line 3: the file is not UTF-8/);
  });
});

describe("what search reads of a cue", () => {
  it("is its text without tags, entities read, lines joined", () => {
    expect(cuePlainText("<v Captain>Welcome <b>aboard</b> &amp; mind<00:00:02.000> the\n<i>gap</i>&nbsp;&#33;")).toBe(
      "Welcome aboard & mind the gap !",
    );
  });
});

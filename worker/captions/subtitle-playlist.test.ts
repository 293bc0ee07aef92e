import { describe, expect, it } from "vitest";
import { subtitlePlaylist, timestampMapMpegts, withTimestampMap } from "./subtitle-playlist.ts";

describe("a caption track as players fetch it", () => {
  it("is one WebVTT segment as long as the video, in a VOD playlist whose target duration covers it", () => {
    expect(subtitlePlaylist(9.5, "en.vtt")).toBe(
      [
        "#EXTM3U",
        "#EXT-X-VERSION:3",
        "#EXT-X-TARGETDURATION:10",
        "#EXT-X-MEDIA-SEQUENCE:0",
        "#EXT-X-PLAYLIST-TYPE:VOD",
        "#EXTINF:9.500,",
        "en.vtt",
        "#EXT-X-ENDLIST",
        "",
      ].join("\n"),
    );
    expect(subtitlePlaylist(120, "en.vtt")).toContain("#EXT-X-TARGETDURATION:120\n");
  });

  it("maps local zero to where the source's first frame sits in the segments: two frames in", () => {
    expect(timestampMapMpegts(30)).toBe(6000);
    expect(timestampMapMpegts(25)).toBe(7200);
    expect(timestampMapMpegts(30000 / 1001)).toBe(6006);
    expect(timestampMapMpegts(null)).toBe(6000);
  });

  it("puts X-TIMESTAMP-MAP in the header, right after the WEBVTT line", () => {
    expect(withTimestampMap("WEBVTT - tour\nKind: captions\n\n00:00:01.000 --> 00:00:02.000\nhi\n", 6000)).toBe(
      "WEBVTT - tour\nX-TIMESTAMP-MAP=MPEGTS:6000,LOCAL:00:00:00.000\nKind: captions\n\n00:00:01.000 --> 00:00:02.000\nhi\n",
    );
    expect(withTimestampMap("WEBVTT\n", 6000)).toBe("WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:6000,LOCAL:00:00:00.000\n");
  });
});

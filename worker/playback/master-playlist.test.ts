import { describe, expect, it } from "vitest";
import { withJobPrefix } from "./master-playlist.ts";

const JOB = "j1abcdefghij";

describe("master playlist as served", () => {
  it("points variants and alternate audio renditions at the playback job's files", () => {
    const master = [
      "#EXTM3U",
      "#EXT-X-VERSION:7",
      '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="English",LANGUAGE="en",DEFAULT=YES,AUTOSELECT=YES,URI="audio_0/index.m3u8"',
      '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="Français",LANGUAGE="fr",DEFAULT=NO,AUTOSELECT=YES,URI="audio_1/index.m3u8"',
      '#EXT-X-STREAM-INF:BANDWIDTH=2000000,RESOLUTION=1280x720,CODECS="avc1.64001f,mp4a.40.2",AUDIO="audio"',
      "720p/index.m3u8",
      "",
    ].join("\n");
    expect(withJobPrefix(master, JOB).split("\n")).toEqual([
      "#EXTM3U",
      "#EXT-X-VERSION:7",
      `#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="English",LANGUAGE="en",DEFAULT=YES,AUTOSELECT=YES,URI="${JOB}/audio_0/index.m3u8"`,
      `#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="Français",LANGUAGE="fr",DEFAULT=NO,AUTOSELECT=YES,URI="${JOB}/audio_1/index.m3u8"`,
      '#EXT-X-STREAM-INF:BANDWIDTH=2000000,RESOLUTION=1280x720,CODECS="avc1.64001f,mp4a.40.2",AUDIO="audio"',
      `${JOB}/720p/index.m3u8`,
      "",
    ]);
  });

  it("leaves absolute URIs and attributes that are not URIs alone", () => {
    const master =
      '#EXT-X-SESSION-DATA:DATA-ID="x",VALUE="a/b"\n#EXT-X-MEDIA:URI="https://cdn.example/a.m3u8"\n/abs/index.m3u8\n';
    expect(withJobPrefix(master, JOB)).toBe(master);
  });
});

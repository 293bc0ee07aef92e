import { describe, expect, it } from "vitest";
import { withJobPrefix, withSubtitles } from "./master-playlist.ts";

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

describe("master playlist with caption tracks", () => {
  const master = [
    "#EXTM3U",
    "#EXT-X-VERSION:7",
    '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="English",DEFAULT=YES,URI="j1/audio_0/index.m3u8"',
    '#EXT-X-STREAM-INF:BANDWIDTH=2000000,RESOLUTION=1280x720,AUDIO="audio"',
    "j1/720p/index.m3u8",
    "#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360",
    "j1/360p/index.m3u8",
    '#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=90000,URI="j1/720p/iframes.m3u8"',
    "",
  ].join("\n");

  it("names every track as SUBTITLES in one group, before the variants, and points every variant at it", () => {
    const tracks = [
      { lang: "en", label: "English", uri: "/videos/v/captions/en.m3u8" },
      { lang: "pt-BR", label: "Português (Brasil)", uri: "/videos/v/captions/pt-BR.m3u8" },
    ];
    expect(withSubtitles(master, tracks).split("\n")).toEqual([
      "#EXTM3U",
      "#EXT-X-VERSION:7",
      '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="English",DEFAULT=YES,URI="j1/audio_0/index.m3u8"',
      '#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="English",LANGUAGE="en",DEFAULT=NO,AUTOSELECT=YES,URI="/videos/v/captions/en.m3u8"',
      '#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="Português (Brasil)",LANGUAGE="pt-BR",DEFAULT=NO,AUTOSELECT=YES,URI="/videos/v/captions/pt-BR.m3u8"',
      '#EXT-X-STREAM-INF:BANDWIDTH=2000000,RESOLUTION=1280x720,AUDIO="audio",SUBTITLES="subs"',
      "j1/720p/index.m3u8",
      '#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360,SUBTITLES="subs"',
      "j1/360p/index.m3u8",
      '#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=90000,URI="j1/720p/iframes.m3u8"',
      "",
    ]);
  });

  it("keeps NAMEs unique in the group, and leaves a master without tracks as it is", () => {
    const tracks = [
      { lang: "en", label: "English", uri: "/a.m3u8" },
      { lang: "en-GB", label: "English", uri: "/b.m3u8" },
    ];
    const names = [...withSubtitles(master, tracks).matchAll(/TYPE=SUBTITLES,GROUP-ID="subs",NAME="([^"]*)"/g)].map(
      (m) => m[1],
    );
    expect(names).toEqual(["English (en)", "English (en-GB)"]);
    expect(withSubtitles(master, [])).toBe(master);
  });
});

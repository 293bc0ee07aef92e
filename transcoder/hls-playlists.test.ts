import { describe, expect, it } from "vitest";
import { masterPlaylist, parseMediaPlaylist, peakBitrate } from "../worker/contracts/hls-playlists.ts";
import { audioRendition, videoRendition } from "./hls-playlists.ts";

describe("playlists", () => {
  it("reads segments, durations and the init segment from a media playlist", () => {
    const text =
      '#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-MAP:URI="init.mp4"\n#EXTINF:4.000000,\nseg_00001.m4s\n#EXTINF:2.5,\nseg_00002.m4s\n#EXT-X-ENDLIST\n';
    expect(parseMediaPlaylist(text)).toEqual({
      targetDuration: 4,
      init: "init.mp4",
      segments: [
        { uri: "seg_00001.m4s", duration: 4 },
        { uri: "seg_00002.m4s", duration: 2.5 },
      ],
    });
  });

  it("measures the peak over runs of 0.5 to 1.5 target durations, not a tiny last segment", () => {
    const segments = [
      { bytes: 500_000, duration: 4 },
      { bytes: 1_000_000, duration: 4 },
      { bytes: 50_000, duration: 0.1 },
    ];
    // 1 MB in 4 s is the peak; 50 kB in 0.1 s (4 Mb/s) alone is too short to count.
    expect(peakBitrate(segments, 4)).toBe(Math.ceil((1_050_000 * 8) / 4.1));
  });

  it("writes the master with the highest bandwidth first and every attribute players use", () => {
    const rendition = (name: string, bandwidth: number, height: number) => ({
      name,
      width: Math.round((height * 16) / 9),
      height,
      bandwidth,
      averageBandwidth: bandwidth - 1000,
      codecs: "avc1.640028,mp4a.40.2",
      frameRate: 29.97,
      bytes: 1,
      playlist: `${name}/index.m3u8`,
    });
    const text = masterPlaylist([rendition("360p", 900_000, 360), rendition("720p", 3_000_000, 720)]);
    expect(text).toBe(
      [
        "#EXTM3U",
        "#EXT-X-VERSION:7",
        "#EXT-X-INDEPENDENT-SEGMENTS",
        '#EXT-X-STREAM-INF:BANDWIDTH=3000000,AVERAGE-BANDWIDTH=2999000,RESOLUTION=1280x720,CODECS="avc1.640028,mp4a.40.2",FRAME-RATE=29.970',
        "720p/index.m3u8",
        '#EXT-X-STREAM-INF:BANDWIDTH=900000,AVERAGE-BANDWIDTH=899000,RESOLUTION=640x360,CODECS="avc1.640028,mp4a.40.2",FRAME-RATE=29.970',
        "360p/index.m3u8",
        "",
      ].join("\n"),
    );
  });
});

describe("audio renditions", () => {
  const media = (name: string, peak: number, average: number) => ({
    name,
    playlist: `${name}/index.m3u8`,
    files: [],
    segments: [],
    bytes: 1000,
    peakBandwidth: peak,
    averageBandwidth: average,
    durationSec: 4,
    init: null,
  });
  const english = audioRendition(media("audio_0", 130_000, 128_000), {
    language: "en",
    label: "English",
    default: true,
    channels: 2,
  });
  const french = audioRendition(media("audio_1", 100_000, 96_000), {
    language: "fr",
    label: "Français",
    default: false,
    channels: 1,
  });

  it("adds the largest audio track to each variant's bit rates and its codec to CODECS", () => {
    const video = { width: 1280, height: 720, frameRate: 30, fallbackAvc1: "avc1.64001f" };
    const r = videoRendition(media("720p", 3_000_000, 2_800_000), video, [english, french]);
    expect(r).toMatchObject({ bandwidth: 3_130_000, averageBandwidth: 2_928_000, codecs: "avc1.64001f,mp4a.40.2" });
    expect(videoRendition(media("720p", 3_000_000, 2_800_000), video, [])).toMatchObject({
      bandwidth: 3_000_000,
      codecs: "avc1.64001f",
    });
  });

  it("lists every track in one audio group, the default first marked, and points each variant at it", () => {
    const video = { width: 640, height: 360, frameRate: 25, fallbackAvc1: "avc1.4d401e" };
    const text = masterPlaylist(
      [videoRendition(media("360p", 900_000, 800_000), video, [english, french])],
      [english, french],
    );
    expect(text.split("\n").slice(3, 7)).toEqual([
      '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="English",LANGUAGE="en",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",URI="audio_0/index.m3u8"',
      '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="Français",LANGUAGE="fr",DEFAULT=NO,AUTOSELECT=YES,CHANNELS="1",URI="audio_1/index.m3u8"',
      '#EXT-X-STREAM-INF:BANDWIDTH=1030000,AVERAGE-BANDWIDTH=928000,RESOLUTION=640x360,CODECS="avc1.4d401e,mp4a.40.2",FRAME-RATE=25.000,AUDIO="audio"',
      "360p/index.m3u8",
    ]);
  });
});

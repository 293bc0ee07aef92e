// A package task on a ladder made by the real pipeline and stitched from
// spans, as the worker has it made: the downloads are the rung's and the
// audio track's own packets, copied, with the index first.
import { type FileHandle, mkdir, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseMediaPlaylist } from "../worker/contracts/hls-playlists.ts";
import { TranscodeError } from "./errors.ts";
import { type LadderFiles, type Packaged, packageDownloads } from "./package.ts";
import { runPipeline } from "./pipeline.ts";
import { encodeLadderInSpans } from "./testing/ladder.ts";
import { decodesCleanly, makeClip, probeJson } from "./testing/media.ts";

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "reelay-package-test-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** The ladder's files in a local work dir, read as the worker's job files would be. */
const localLadder = (dir: string): LadderFiles => ({
  text: (file) => readFile(join(dir, file), "utf8"),
  async into(file: string, out: FileHandle, at: number) {
    const bytes = await readFile(join(dir, file));
    await out.write(bytes, 0, bytes.length, at);
    return bytes.length;
  },
});

/** A generated clip's ladder, the first task's rendition and the spans' rungs stitched, in `<root>/<name>`. */
async function ladderOf(name: string, clip: Parameters<typeof makeClip>[1]) {
  const source = { path: await makeClip(join(root, `${name}.mp4`), clip) };
  const workDir = join(root, name);
  let final = await runPipeline({ source, workDir });
  if (final.ladder) final = await encodeLadderInSpans({ source, workDir, playable: final, spanSeconds: 4 });
  return { workDir, final };
}

/** The top-level boxes of an MP4 file, in order. */
async function topLevelBoxes(path: string): Promise<string[]> {
  const bytes = await readFile(path);
  const boxes: string[] = [];
  for (let at = 0; at + 8 <= bytes.length; ) {
    const size32 = bytes.readUInt32BE(at);
    const size = size32 === 1 ? Number(bytes.readBigUInt64BE(at + 8)) : size32 === 0 ? bytes.length - at : size32;
    boxes.push(bytes.toString("latin1", at + 4, at + 8));
    at += size;
  }
  return boxes;
}

type Stream = { codec_type: string; codec_name: string; profile?: string; width?: number; height?: number };
const streamsOf = async (path: string): Promise<Stream[]> =>
  (await probeJson(path, ["-show_entries", "stream=codec_type,codec_name,profile,width,height"])).streams;
const durationOf = async (path: string, stream: "v" | "a"): Promise<number> =>
  Number(
    (await probeJson(path, ["-select_streams", `${stream}:0`, "-show_entries", "stream=duration"])).streams[0].duration,
  );
/** Every packet's MD5 of the first stream of a kind: equal lists are the same packets, copied. */
const packetHashes = async (path: string, stream: "v" | "a"): Promise<string[]> =>
  (
    await probeJson(path, [
      "-select_streams",
      `${stream}:0`,
      "-show_data_hash",
      "MD5",
      "-show_entries",
      "packet=data_hash",
    ])
  ).packets.map((p: { data_hash: string }) => p.data_hash);

describe("the downloads of a 720p H.264 + AAC ladder made in spans", () => {
  let workDir: string;
  let out: string;
  let packaged: Packaged;
  const progress: number[] = [];

  beforeAll(async () => {
    const ladder = await ladderOf("landscape", { width: 1280, height: 720, fps: 30, seconds: 9 });
    workDir = ladder.workDir;
    expect(ladder.final.renditions.map((r) => r.name)).toContain("720p");
    out = join(root, "landscape-package");
    await mkdir(out);
    packaged = await packageDownloads({
      task: { attempt: 1, rung: "720p", audio: "audio_0" },
      ladder: localLadder(workDir),
      workDir: out,
      signal: new AbortController().signal,
      onProgress: (f) => progress.push(f),
    });
  });

  it("writes an MP4 with its index before its media, of the rung's own packets and the audio's", async () => {
    const download = join(out, "download.mp4");
    expect(packaged.files).toEqual(["download.mp4", "audio.m4a"]);
    expect(packaged.download.bytes).toBe((await readFile(download)).length);
    const boxes = await topLevelBoxes(download);
    expect(boxes[0]).toBe("ftyp");
    expect(boxes.indexOf("moov")).toBeGreaterThan(-1);
    expect(boxes.indexOf("moov")).toBeLessThan(boxes.indexOf("mdat"));
    expect(boxes).not.toContain("moof");
    expect(await decodesCleanly(download)).toBe(true);

    // Copied, not encoded again: the same codec and profile as the rung, packet for packet.
    const [rungVideo] = await streamsOf(join(workDir, "720p", "index.m3u8"));
    const [audioTrack] = await streamsOf(join(workDir, "audio_0", "index.m3u8"));
    const streams = await streamsOf(download);
    expect(streams).toHaveLength(2);
    expect(streams[0]).toMatchObject({ codec_type: "video", codec_name: "h264", width: 1280, height: 720 });
    expect(rungVideo.profile).toBeTruthy();
    expect(streams[0].profile).toBe(rungVideo.profile);
    expect(streams[1]).toMatchObject({ codec_type: "audio", codec_name: "aac", profile: audioTrack.profile });
    expect(await packetHashes(download, "v")).toEqual(await packetHashes(join(workDir, "720p", "index.m3u8"), "v"));
    expect(await packetHashes(download, "a")).toEqual(await packetHashes(join(workDir, "audio_0", "index.m3u8"), "a"));
  });

  it("plays as long as the ladder, within a frame", async () => {
    const playlist = parseMediaPlaylist(await readFile(join(workDir, "720p", "index.m3u8"), "utf8"));
    const ladderSec = playlist.segments.reduce((n, s) => n + s.duration, 0);
    expect(ladderSec).toBeCloseTo(9, 1);
    expect(Math.abs((await durationOf(join(out, "download.mp4"), "v")) - ladderSec)).toBeLessThanOrEqual(1 / 30);
    const format = await probeJson(join(out, "download.mp4"), ["-show_entries", "format=duration"]);
    expect(Math.abs(Number(format.format.duration) - 9)).toBeLessThanOrEqual(1 / 30);
  });

  it("writes the audio alone as an M4A, index first", async () => {
    const m4a = join(out, "audio.m4a");
    expect(packaged.audio?.bytes).toBe((await readFile(m4a)).length);
    const boxes = await topLevelBoxes(m4a);
    expect(boxes.indexOf("moov")).toBeLessThan(boxes.indexOf("mdat"));
    const streams = await streamsOf(m4a);
    expect(streams.map((s) => s.codec_type)).toEqual(["audio"]);
    expect(await decodesCleanly(m4a)).toBe(true);
    expect(await durationOf(m4a, "a")).toBeCloseTo(await durationOf(join(out, "download.mp4"), "a"), 2);
    // The joined inputs are gone: only what is uploaded is left.
    expect((await readdir(out)).sort()).toEqual(["audio.m4a", "download.mp4"]);
  });

  it("reports progress that only grows, to nearly the end", () => {
    expect(progress.length).toBeGreaterThan(3);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(progress.at(-1)).toBeGreaterThan(0.9);
  });
});

describe("the downloads of a silent video", () => {
  it("are the MP4 alone, with the video only", async () => {
    const { workDir, final } = await ladderOf("silent", { width: 480, height: 270, seconds: 4, audio: false });
    const rung = final.renditions[0].name;
    const out = join(root, "silent-package");
    await mkdir(out);
    const packaged = await packageDownloads({
      task: { attempt: 1, rung, audio: null },
      ladder: localLadder(workDir),
      workDir: out,
      signal: new AbortController().signal,
    });
    expect(packaged.audio).toBeNull();
    expect(packaged.files).toEqual(["download.mp4"]);
    expect((await streamsOf(join(out, "download.mp4"))).map((s) => s.codec_type)).toEqual(["video"]);
  });
});

describe("a ladder playlist that names other files", () => {
  it("is refused before anything is read", async () => {
    const read: string[] = [];
    const hostile: LadderFiles = {
      text: async () => '#EXTM3U\n#EXT-X-MAP:URI="init.mp4"\n#EXTINF:4,\n../../source\n#EXT-X-ENDLIST\n',
      async into(file) {
        read.push(file);
        return 0;
      },
    };
    const out = await mkdtemp(join(root, "hostile-"));
    const refused = packageDownloads({
      task: { attempt: 1, rung: "720p", audio: null },
      ladder: hostile,
      workDir: out,
      signal: new AbortController().signal,
    });
    await expect(refused).rejects.toBeInstanceOf(TranscodeError);
    expect(read).toEqual([]);
  });
});

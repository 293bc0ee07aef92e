import { describe, expect, it } from "vitest";
import { ffmpegFailure } from "./errors.ts";

const workDir = "/tmp/reelay-job-Ab12/out";
const sourcePath = "/tmp/reelay-job-Ab12/source";

describe("an ffmpeg failure", () => {
  it("fails a source ffmpeg refuses for good, in words without paths, addresses or log prefixes", () => {
    // What the remux of an MPEG-TS with ADTS AAC printed before aac_adtstoasc was applied.
    const stderr = [
      `[mp4 @ 0x562d0b783940] Malformed AAC bitstream detected: use the audio bitstream filter 'aac_adtstoasc' to fix it`,
      `[hls @ 0x562d0b7a1c00] Opening '${workDir}/source/seg_00001.m4s' for writing`,
      "av_interleaved_write_frame(): Operation not permitted",
      "Conversion failed!",
    ].join("\n");
    const failure = ffmpegFailure("copying the source into HLS", "ffmpeg exited with code 1", stderr, [
      workDir,
      sourcePath,
    ]);
    expect(failure.retryable).toBe(false);
    expect(failure.message).toBe(
      "The video could not be processed while copying the source into HLS: Malformed AAC bitstream detected: use the audio bitstream filter 'aac_adtstoasc' to fix it.",
    );
    expect(failure.message).not.toMatch(/0x[0-9a-f]|\/tmp|\[\w+ @/);
    // The operator's log keeps every word.
    expect(failure.detail).toContain(`${workDir}/source/seg_00001.m4s`);
  });

  it("says in plain words that a file looks incomplete or damaged", () => {
    const incomplete = ffmpegFailure(
      "encoding 360p",
      "exit 1",
      `[mov,mp4 @ 0x55] moov atom not found\n${sourcePath}: Invalid data found`,
      [sourcePath],
    );
    expect(incomplete.message).toMatch(/^The file looks incomplete/);
    const damaged = ffmpegFailure("encoding 360p", "exit 1", "[h264 @ 0x5500aa] error while decoding MB 3 4", []);
    expect(damaged.message).toBe("The file looks damaged or incomplete: part of it cannot be read.");
    expect(damaged.retryable).toBe(false);
  });

  it("retries what the machine did, not the file: a killed process, a full disk, memory", () => {
    const killed = ffmpegFailure("encoding 720p", "ffmpeg was killed with signal SIGKILL", "", []);
    const full = ffmpegFailure("encoding 720p", "exit 1", `${workDir}/720p/seg_00003.m4s: No space left on device`, [
      workDir,
    ]);
    const memory = ffmpegFailure("encoding 720p", "exit 1", "Cannot allocate memory", []);
    for (const f of [killed, full, memory]) {
      expect(f.retryable).toBe(true);
      expect(f.message).toBe("Transcoding was interrupted while encoding 720p; it will be retried.");
    }
  });
});

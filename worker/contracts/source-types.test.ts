import { describe, expect, it } from "vitest";
import { declaredType, notAVideoReason, VIDEO_ACCEPT } from "./source-types.ts";
import { SOURCE_REASONS } from "./vocabulary.ts";

describe("which files are videos", () => {
  it("takes video types and unknown types, and says why audio, images and the rest are not videos", () => {
    expect(notAVideoReason("video/mp4")).toBeNull();
    expect(notAVideoReason("video/x-matroska")).toBeNull();
    expect(notAVideoReason("application/octet-stream")).toBeNull();
    expect(notAVideoReason("audio/mpeg")).toBe(SOURCE_REASONS.audioOnly);
    expect(notAVideoReason("AUDIO/WAV")).toBe(SOURCE_REASONS.audioOnly);
    expect(notAVideoReason("image/png")).toBe(SOURCE_REASONS.notAccepted);
    expect(notAVideoReason("application/pdf")).toBe(SOURCE_REASONS.notAccepted);
  });

  it("declares a video the system typed as something else as a file of unknown type, never an audio file or image", () => {
    const declared = (name: string, type: string) => declaredType({ name, type });
    expect(declared("clip.mp4", "video/mp4")).toBe("video/mp4");
    expect(declared("clip.mkv", "")).toBe("application/octet-stream");
    // Linux's shared MIME database types MPEG-TS as Qt translations and AVCHD as 3D models.
    expect(declared("capture.ts", "text/vnd.trolltech.linguist")).toBe("application/octet-stream");
    expect(declared("00001.MTS", "model/vnd.mts")).toBe("application/octet-stream");
    expect(declared("song.mp3", "audio/mpeg")).toBe("audio/mpeg");
    expect(declared("song.mp4", "audio/mp4")).toBe("audio/mp4");
    expect(declared("photo.png", "image/png")).toBe("image/png");
    expect(declared("notes.txt", "text/plain")).toBe("text/plain");
  });

  it("offers video files the system does not type as video in the file picker", () => {
    expect(VIDEO_ACCEPT.split(",")).toEqual(expect.arrayContaining(["video/*", ".ts", ".mts", ".m2ts", ".mkv"]));
  });
});

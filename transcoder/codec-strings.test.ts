import { describe, expect, it } from "vitest";
import { avc1FromInit, avc1FromProfile, mp4aFromProfile } from "./codec-strings.ts";

describe("codec strings", () => {
  it("derives avc1 from profile and level", () => {
    expect(avc1FromProfile("High", 40)).toBe("avc1.640028");
    expect(avc1FromProfile("Main", 31)).toBe("avc1.4d001f");
    expect(avc1FromProfile("Constrained Baseline", 30)).toBe("avc1.42401e");
  });

  it("reads avc1 from the init segment's avcC box", () => {
    const box = Buffer.concat([Buffer.from("....avcC"), Buffer.from([1, 0x64, 0x00, 0x1f, 0xff])]);
    expect(avc1FromInit(box)).toBe("avc1.64001f");
    expect(avc1FromInit(Buffer.from("no box here"))).toBeNull();
  });

  it("names HE-AAC and LC apart", () => {
    expect(mp4aFromProfile("LC")).toBe("mp4a.40.2");
    expect(mp4aFromProfile("HE-AAC")).toBe("mp4a.40.5");
  });
});

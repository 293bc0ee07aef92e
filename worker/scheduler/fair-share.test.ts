import { describe, expect, it } from "vitest";
import { nextVideo, shareOf } from "./fair-share.ts";

describe("nextVideo", () => {
  it("takes turns between waiting videos, starting after the one served last", () => {
    const running = new Map<string, number>();
    expect(nextVideo(["a", "b", "c"], running, null, 5)).toBe("a");
    expect(nextVideo(["a", "b", "c"], running, "a", 5)).toBe("b");
    expect(nextVideo(["a", "b", "c"], running, "c", 5)).toBe("a");
    expect(nextVideo(["a", "c"], running, "b", 5)).toBe("c");
  });

  it("passes over a video holding its share while another waits", () => {
    expect(nextVideo(["a", "b"], new Map([["b", 5]]), "a", 5)).toBe("a");
    expect(nextVideo(["a", "b"], new Map([["b", 4]]), "a", 5)).toBe("b");
  });

  it("still serves a video over its share when it is the only one waiting, or all are over", () => {
    expect(nextVideo(["a"], new Map([["a", 9]]), "a", 5)).toBe("a");
    expect(
      nextVideo(
        ["a", "b"],
        new Map([
          ["a", 6],
          ["b", 5],
        ]),
        "a",
        5,
      ),
    ).toBe("b");
  });

  it("serves no one when nothing waits", () => {
    expect(nextVideo([], new Map(), "a", 5)).toBeUndefined();
  });
});

describe("shareOf", () => {
  it("is the given percentage of the slots, at least one", () => {
    expect(shareOf(100, 25)).toBe(25);
    expect(shareOf(10, 50)).toBe(5);
    expect(shareOf(2, 25)).toBe(1);
  });
});

import { describe, expect, it } from "vitest";
import { TranscodeError } from "./errors.ts";
import { truncationWarning } from "./truncation.ts";

describe("a source that plays less than it declares", () => {
  it("is not flagged for a frame's or a second's rounding", () => {
    expect(truncationWarning(6, 6.02)).toBeNull();
    expect(truncationWarning(6, 5.2)).toBeNull();
    expect(truncationWarning(3600, 3560)).toBeNull();
  });

  it("is flagged with how much plays when a real part is missing", () => {
    expect(truncationWarning(6, 3.6)).toEqual({
      code: "source_truncated",
      message: "The file looks truncated: 3.6 s of the 6 s it declares play.",
    });
    expect(truncationWarning(3600, 1800)?.message).toBe(
      "The file looks truncated: 1800 s of the 3600 s it declares play.",
    );
  });

  it("fails for good when almost nothing plays", () => {
    let thrown: unknown;
    try {
      truncationWarning(600, 12);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TranscodeError);
    expect((thrown as TranscodeError).retryable).toBe(false);
    expect((thrown as TranscodeError).message).toBe(
      "The file looks incomplete: only 12 s of the 600 s it declares can be played. Upload the complete file.",
    );
  });
});

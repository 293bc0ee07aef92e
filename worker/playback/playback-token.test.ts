// The playback token's format is a promise to backends that mint their own:
// these tests pin it (an HMAC recomputed here by the README's recipe) and
// every way a token is refused.
import { describe, expect, it } from "vitest";
import { base64url } from "../crypto/encoding.ts";
import { signPlaybackToken, verifyPlaybackToken } from "./playback-token.ts";

const KEY = "playback-signing-key-for-tests-0123456789";
const VIDEO = "0123456789abcdefghjk";
const OTHER = "kjhgfedcba9876543210";
const NOW = Date.UTC(2026, 10, 28, 12, 0, 0);
const IN_AN_HOUR = NOW / 1000 + 3600;

/** The README's recipe, written out with nothing from the module. */
async function mintedByHand(videoId: string, exp: number, rights: string, generation: number): Promise<string> {
  const enc = new TextEncoder();
  const hmac = async (key: Uint8Array, text: string) => {
    const k = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    return new Uint8Array(await crypto.subtle.sign("HMAC", k, enc.encode(text)));
  };
  const videoKey = await hmac(enc.encode(KEY), `reelay-playback:${videoId}:${generation}`);
  const signature = await hmac(videoKey, `${videoId}.${exp}.${rights}.${generation}`);
  return `${exp}.${rights}.${generation}.${base64url(signature)}`;
}

describe("playback tokens", () => {
  it("follow the documented format, so a backend mints the same token with the signing key", async () => {
    const token = await signPlaybackToken(KEY, { videoId: VIDEO, exp: IN_AN_HOUR, rights: "pd", generation: 3 });
    expect(token).toBe(await mintedByHand(VIDEO, IN_AN_HOUR, "pd", 3));
    expect(token).toMatch(/^[0-9]+\.pd\.3\.[A-Za-z0-9_-]{43}$/);
    expect(token.length).toBeLessThan(70);
    expect(await verifyPlaybackToken(KEY, token, VIDEO, 3, NOW)).toEqual({
      ok: true,
      grant: { videoId: VIDEO, exp: IN_AN_HOUR, rights: "pd", generation: 3 },
    });
  });

  it("open one video only", async () => {
    const token = await signPlaybackToken(KEY, { videoId: VIDEO, exp: IN_AN_HOUR, rights: "p", generation: 1 });
    expect(await verifyPlaybackToken(KEY, token, OTHER, 1, NOW)).toEqual({ ok: false, refusal: "invalid" });
  });

  it("stop opening the video once it expires", async () => {
    const token = await signPlaybackToken(KEY, { videoId: VIDEO, exp: IN_AN_HOUR, rights: "p", generation: 1 });
    expect((await verifyPlaybackToken(KEY, token, VIDEO, 1, IN_AN_HOUR * 1000 - 1)).ok).toBe(true);
    expect(await verifyPlaybackToken(KEY, token, VIDEO, 1, IN_AN_HOUR * 1000)).toEqual({
      ok: false,
      refusal: "expired",
    });
  });

  it("are all revoked when the video's key is rotated, and a generation never handed out is refused", async () => {
    const token = await signPlaybackToken(KEY, { videoId: VIDEO, exp: IN_AN_HOUR, rights: "p", generation: 1 });
    expect(await verifyPlaybackToken(KEY, token, VIDEO, 2, NOW)).toEqual({ ok: false, refusal: "revoked" });
    const ahead = await signPlaybackToken(KEY, { videoId: VIDEO, exp: IN_AN_HOUR, rights: "p", generation: 5 });
    expect(await verifyPlaybackToken(KEY, ahead, VIDEO, 2, NOW)).toEqual({ ok: false, refusal: "invalid" });
  });

  it("refuse any change to what was signed, and tokens signed with another key", async () => {
    const token = await signPlaybackToken(KEY, { videoId: VIDEO, exp: IN_AN_HOUR, rights: "p", generation: 1 });
    const [exp, , gen, sig] = token.split(".");
    const tampered = [
      `${Number(exp) + 86400}.p.${gen}.${sig}`,
      `${exp}.pd.${gen}.${sig}`,
      `${exp}.p.${gen}.${sig!.slice(0, -1)}${sig!.endsWith("A") ? "B" : "A"}`,
    ];
    for (const t of tampered)
      expect(await verifyPlaybackToken(KEY, t, VIDEO, 1, NOW)).toEqual({ ok: false, refusal: "invalid" });
    const foreign = await signPlaybackToken(`${KEY}-other`, {
      videoId: VIDEO,
      exp: IN_AN_HOUR,
      rights: "p",
      generation: 1,
    });
    expect(await verifyPlaybackToken(KEY, foreign, VIDEO, 1, NOW)).toEqual({ ok: false, refusal: "invalid" });
  });

  it("call anything that is not four fields of the format malformed", async () => {
    for (const t of ["", "abc", "1.p.1", "1.p.1.x.y", "01.p.1.AAAA", "1.x.1.AAAA", "1.p.0.AAAA", "1.p.1.!!!!"]) {
      expect(await verifyPlaybackToken(KEY, t, VIDEO, 1, NOW)).toEqual({ ok: false, refusal: "malformed" });
    }
  });
});

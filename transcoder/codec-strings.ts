/**
 * RFC 6381 codec strings for the master playlist's CODECS attribute: players
 * use them to decide whether they can play a rendition before fetching it.
 */

const hex = (n: number) => n.toString(16).padStart(2, "0");

/** RFC 6381 from ffprobe's names: profile_idc, constraint flags, level_idc. */
export function avc1FromProfile(profile: string | null, level: number | null): string {
  const table: Record<string, [number, number]> = {
    "Constrained Baseline": [0x42, 0x40],
    Baseline: [0x42, 0x00],
    Main: [0x4d, 0x00],
    High: [0x64, 0x00],
  };
  const [idc, constraints] = table[profile ?? ""] ?? table.High;
  return `avc1.${hex(idc)}${hex(constraints)}${hex(level ?? 40)}`;
}

/** A ladder rung's avc1 string from its `-profile:v`, for when no init segment says it. */
export const avc1OfRung = (profile: "high" | "main") => avc1FromProfile(profile === "high" ? "High" : "Main", 40);

/**
 * The exact avc1 string is the three bytes after the avcC header in the init
 * segment: what the stream really declares, constraint flags included.
 */
export function avc1FromInit(init: Buffer): string | null {
  const at = init.indexOf("avcC");
  if (at < 0 || at + 8 > init.length || init[at + 4] !== 1) return null;
  return `avc1.${hex(init[at + 5])}${hex(init[at + 6])}${hex(init[at + 7])}`;
}

/** AAC object types as players expect them in CODECS. */
export function mp4aFromProfile(profile: string | null): string {
  if (profile === "HE-AAC") return "mp4a.40.5";
  if (profile === "HE-AACv2") return "mp4a.40.29";
  return "mp4a.40.2";
}

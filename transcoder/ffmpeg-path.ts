/**
 * Which ffmpeg/ffprobe to run. The container installs Debian's ffmpeg, which is
 * newer and better built than the static binaries the npm installers ship, so a
 * system binary wins; the npm ones are only a fallback for machines without
 * ffmpeg. Nothing is ever downloaded: the installer packages carry their binary.
 */
import { accessSync, constants } from "node:fs";
import { createRequire } from "node:module";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import ffmpeg from "fluent-ffmpeg";

export type FfmpegPaths = { ffmpeg: string; ffprobe: string };

let resolved: FfmpegPaths | undefined;

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}

function fromInstaller(pkg: string): string {
  // Loaded lazily: the installer modules throw on import on unsupported platforms.
  const require = createRequire(import.meta.url);
  return (require(pkg) as { path: string }).path;
}

function pick(envVar: string, name: string, pkg: string): string {
  return process.env[envVar] || onPath(name) || fromInstaller(pkg);
}

/** Runs ffmpeg so that it dies with this process (see the script). */
const BOUND_FFMPEG = fileURLToPath(new URL("./bin/ffmpeg-bound", import.meta.url));

/**
 * Resolves the binaries once and points fluent-ffmpeg at them: ffmpeg
 * through the script that binds its life to ours, which reads the real
 * binary from the environment its children inherit.
 */
export function ffmpegPaths(): FfmpegPaths {
  if (!resolved) {
    resolved = {
      ffmpeg: pick("FFMPEG_PATH", "ffmpeg", "@ffmpeg-installer/ffmpeg"),
      ffprobe: pick("FFPROBE_PATH", "ffprobe", "@ffprobe-installer/ffprobe"),
    };
    process.env.REELAY_FFMPEG_BINARY = resolved.ffmpeg;
    ffmpeg.setFfmpegPath(BOUND_FFMPEG);
    ffmpeg.setFfprobePath(resolved.ffprobe);
  }
  return resolved;
}

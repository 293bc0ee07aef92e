/**
 * Step 1 published while ffmpeg writes it, so a video plays seconds after its
 * upload whatever its length. ffmpeg writes step 1's media playlists as
 * `EVENT` playlists and rewrites each one (atomically: a temp file renamed)
 * after every segment it finishes. Each sync reads every rendition's
 * playlist, uploads its init segment and the segments it lists that are not
 * up yet, then that very playlist text, never the file on disk, which may
 * have moved on: a player never sees a segment named before it exists.
 * Once every rendition (the video and each audio track) has a segment up,
 * `onFirstSegments` runs, once.
 *
 * With `discard`, each media segment is deleted from the work dir once it is
 * up (its size kept in `sizes`): a copy of a 50 GiB source need not fit on
 * the transcoder's disk.
 */
import { readFile, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import { abortError } from "./errors.ts";
import { type MediaPlaylist, parseMediaPlaylist } from "../worker/contracts/hls-playlists.ts";

/**
 * Uploads files of the work dir in the given order; `texts` gives the bytes
 * to send for a path instead of the file's (a playlist as it was read).
 */
export type Upload = (files: string[], texts?: Map<string, string>) => Promise<void>;

/** Each rendition's playlist text as published, by rendition name. */
export type Snapshots = Map<string, string>;

/** How often the playlists are read while ffmpeg writes: reading one is cheap, and viewers wait for the first segment. */
const SYNC_INTERVAL_MS = 100;

export class GrowingPublisher {
  private readonly workDir: string;
  private readonly names: string[];
  private readonly upload: Upload;
  private readonly onFirstSegments: (published: Snapshots, sizes: Map<string, number>) => Promise<void>;
  private readonly published: Snapshots = new Map();
  private readonly segmentsUp = new Map<string, number>();
  private readonly discard: boolean;
  private readonly accept: (name: string, playlist: MediaPlaylist) => void;
  private announced = false;
  /** Bytes of every media segment uploaded, by path in the work dir: what measures it once discarded. */
  readonly sizes = new Map<string, number>();

  constructor(options: {
    workDir: string;
    /** The renditions written, each a directory holding `index.m3u8`. */
    names: string[];
    upload: Upload;
    /** With each playlist as published, and the sizes of the segments it names. */
    onFirstSegments: (published: Snapshots, sizes: Map<string, number>) => Promise<void>;
    discard?: boolean;
    /** Looks at each rendition's playlist before it is published; what it throws stops the work. */
    accept?: (name: string, playlist: MediaPlaylist) => void;
  }) {
    this.accept = options.accept ?? (() => {});
    this.discard = options.discard ?? false;
    this.workDir = options.workDir;
    this.names = options.names;
    this.upload = options.upload;
    this.onFirstSegments = options.onFirstSegments;
  }

  /** Publishes what ffmpeg has finished since the last sync, every rendition side by side. */
  async sync(): Promise<void> {
    await Promise.all(this.names.map((name) => this.syncRendition(name)));
    if (!this.announced && this.names.every((n) => this.published.has(n))) {
      this.announced = true;
      await this.onFirstSegments(new Map(this.published), this.sizes);
    }
  }

  private async syncRendition(name: string): Promise<void> {
    const path = `${name}/index.m3u8`;
    const text = await readFile(join(this.workDir, path), "utf8").catch(() => null);
    if (text === null || text === this.published.get(name)) return;
    const playlist = parseMediaPlaylist(text);
    const { init, segments } = playlist;
    if (segments.length === 0) return;
    this.accept(name, playlist);
    const up = this.segmentsUp.get(name) ?? 0;
    const fresh = segments.slice(up).map((s) => `${name}/${s.uri}`);
    for (const file of fresh) this.sizes.set(file, (await stat(join(this.workDir, file))).size);
    await this.upload([...(up === 0 && init ? [`${name}/${init}`] : []), ...fresh, path], new Map([[path, text]]));
    this.published.set(name, text);
    this.segmentsUp.set(name, segments.length);
    if (this.discard) for (const file of fresh) await unlink(join(this.workDir, file));
  }

  /**
   * Runs `work` (the ffmpeg run writing the renditions) while syncing every
   * SYNC_INTERVAL_MS, then syncs once more to publish the ended playlists. A
   * failed sync (an upload refused, the job superseded) aborts the work
   * through `abort` and is what is thrown.
   */
  async during<T>(work: (signal: AbortSignal) => Promise<T>, signal: AbortSignal): Promise<T> {
    const controller = new AbortController();
    const stopWork = () => controller.abort(abortError(signal));
    signal.addEventListener("abort", stopWork, { once: true });
    let running = true;
    let syncError: unknown = null;
    const loop = (async () => {
      while (running && !syncError) {
        await this.sync().catch((error: unknown) => {
          syncError = error;
          controller.abort(error);
        });
        if (running && !syncError) await new Promise((resolve) => setTimeout(resolve, SYNC_INTERVAL_MS));
      }
    })();
    try {
      const result = await work(controller.signal).finally(async () => {
        running = false;
        await loop;
      });
      if (syncError) throw syncError;
      await this.sync();
      return result;
    } catch (error) {
      throw syncError ?? error;
    } finally {
      signal.removeEventListener("abort", stopWork);
    }
  }
}

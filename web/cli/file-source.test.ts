import { mkdtemp, open, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openFile } from "./file-source.ts";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "reelay-file-source-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("a file on disk as the upload client reads it", () => {
  it("has its whole size and its bytes past 4 GiB, which fs.openAsBlob loses", async () => {
    // Sparse: 5 GiB and a few bytes long, a marker past 4 GiB, almost nothing on disk.
    const path = join(dir, "long.mp4");
    const size = 5 * 2 ** 30 + 12_345;
    const marker = Buffer.from("past four gibibytes");
    const at = 4 * 2 ** 30 + 1000;
    const handle = await open(path, "w");
    await handle.truncate(size);
    await handle.write(marker, 0, marker.length, at);
    await handle.close();

    const file = await openFile(path);
    expect(file.size).toBe(size);
    const bytes = Buffer.from(await file.slice(at - 2, at + marker.length + 2).arrayBuffer());
    expect(bytes).toEqual(Buffer.concat([Buffer.alloc(2), marker, Buffer.alloc(2)]));
    expect((await file.slice(size - 10, size + 100).arrayBuffer()).byteLength).toBe(10);
  });
});

/**
 * A file on disk as the upload client reads it: its size, and its bytes
 * chunk by chunk, read at their position when the chunk is sent (the file is
 * opened for each read, so nothing is left open). Not `fs.openAsBlob`: Node
 * (20 and 24 here) gives a file over 4 GiB the size modulo 2^32 and slices
 * past that point as empty, so a 5 GiB video went up as its first 1 GiB,
 * checksummed and complete. Reading by position also keeps memory to the
 * chunks in flight, whatever the file's size.
 */
import { open, stat } from "node:fs/promises";
import type { UploadFile } from "../src/upload-client.ts";

export async function openFile(path: string): Promise<UploadFile> {
  const { size } = await stat(path);
  return {
    size,
    type: "",
    slice(start, end) {
      return {
        async arrayBuffer() {
          const length = Math.max(0, Math.min(end, size) - start);
          const bytes = new Uint8Array(length);
          const handle = await open(path, "r");
          try {
            for (let read = 0; read < length; ) {
              const { bytesRead } = await handle.read(bytes, read, length - read, start + read);
              if (bytesRead === 0)
                throw new Error(`${path} ended at ${start + read} of ${size} bytes: it changed while uploading`);
              read += bytesRead;
            }
          } finally {
            await handle.close();
          }
          return bytes.buffer;
        },
      };
    },
  };
}

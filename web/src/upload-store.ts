/**
 * Unfinished uploads, remembered in IndexedDB so a closed tab, a crash or a
 * reload costs nothing: /upload lists them, the person picks the same file
 * again (recognised by name, size and the SHA-256 of its first chunk), and
 * only the chunks the server lacks are sent.
 */

export type StoredUpload = {
  videoId: string;
  uploadToken: string;
  filename: string;
  size: number;
  lastModified: number;
  /** Hex SHA-256 of the file's first `chunkSize` bytes. */
  firstChunkSha256: string;
  title: string;
  chunkSize: number;
  createdAt: number;
};

const DB_NAME = "reelay";
const STORE = "uploads";

let opening: Promise<IDBDatabase> | undefined;

function open(): Promise<IDBDatabase> {
  opening ??= new Promise<IDBDatabase>((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: "videoId" });
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
    req.onblocked = () => reject(new Error("IndexedDB is blocked by another tab."));
  }).catch((err) => {
    opening = undefined; // Try again next time rather than caching the failure.
    throw err;
  });
  return opening;
}

async function run<T>(mode: IDBTransactionMode, work: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await open();
  return new Promise<T>((resolve, reject) => {
    const tx = db.transaction(STORE, mode);
    const req = work(tx.objectStore(STORE));
    tx.oncomplete = () => resolve(req.result);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error ?? new Error("IndexedDB transaction aborted."));
  });
}

export async function saveUpload(record: StoredUpload): Promise<void> {
  await run("readwrite", (s) => s.put(record));
}

export async function removeUpload(videoId: string): Promise<void> {
  await run("readwrite", (s) => s.delete(videoId));
}

/** Oldest first; empty when IndexedDB is unavailable (private modes), which only loses resumability. */
export async function listUploads(): Promise<StoredUpload[]> {
  try {
    const all = await run<StoredUpload[]>("readonly", (s) => s.getAll() as IDBRequest<StoredUpload[]>);
    return all.sort((a, b) => a.createdAt - b.createdAt);
  } catch {
    return [];
  }
}

/** Hex SHA-256 of the first `chunkSize` bytes: cheap to compute, and tells two same-sized files apart. */
export async function firstChunkSha256(file: Blob, chunkSize: number): Promise<string> {
  const bytes = await file.slice(0, Math.min(file.size, chunkSize)).arrayBuffer();
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

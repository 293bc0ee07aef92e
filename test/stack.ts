/**
 * Starts the real stack exactly as a person would (`npm start`), on a free
 * port with its own state directory, for end-to-end tests and benchmarks.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const root = fileURLToPath(new URL("..", import.meta.url));

export type Stack = {
  url: string;
  port: number;
  stateDir: string;
  process: ChildProcess;
  output: () => string;
  stop: () => Promise<void>;
};

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

export async function startStack(
  opts: { stateDir?: string; port?: number; env?: Record<string, string> } = {},
): Promise<Stack> {
  const port = opts.port ?? (await freePort());
  const stateDir = opts.stateDir ?? (await mkdtemp(join(tmpdir(), "reelay-stack-")));
  // Own process group, so stop() ends npm, wrangler and workerd together.
  const child = spawn("npm", ["start", "--silent"], {
    cwd: root,
    env: {
      ...process.env,
      ...opts.env,
      PORT: String(port),
      TRANSCODER_PORT: String(await freePort()),
      REELAY_STATE_DIR: stateDir,
    },
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 150_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`npm start exited early:\n${output}`);
    if (output.includes("Reelay is running at")) break;
    if (Date.now() > deadline) throw new Error(`npm start did not come up:\n${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }

  const stop = async () => {
    if (child.exitCode === null) {
      try {
        process.kill(-child.pid!, "SIGTERM");
      } catch {}
      const killed = await Promise.race([
        exited.then(() => true),
        new Promise((r) => setTimeout(() => r(false), 10_000)),
      ]);
      if (!killed) {
        try {
          process.kill(-child.pid!, "SIGKILL");
        } catch {}
      }
    }
    if (!opts.stateDir) await rm(stateDir, { recursive: true, force: true });
  };
  return { url, port, stateDir, process: child, output: () => output, stop };
}

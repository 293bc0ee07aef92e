/**
 * `npm start`: the whole stack on one machine, no cloud account.
 * Applies D1 migrations to the local state, starts `wrangler dev` (R2, D1,
 * Durable Objects and Queues simulated under the state directory), waits for
 * `GET /api/health` and prints the URL. Ctrl-C (or SIGTERM) stops everything.
 *
 * Environment: PORT (default 8787), REELAY_STATE_DIR (default .wrangler/state).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));
const port = Number(process.env.PORT ?? 8787);
const stateDir = process.env.REELAY_STATE_DIR ?? `${root}.wrangler/state`;
const wrangler = [`${root}node_modules/wrangler/bin/wrangler.js`];
// No telemetry, error reports or `request.cf` download: local runs need no network.
const env = {
  ...process.env,
  WRANGLER_SEND_METRICS: "false",
  WRANGLER_SEND_ERROR_REPORTS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
};

const children: ChildProcess[] = [];

function start(name: string, args: string[], extraEnv: Record<string, string> = {}): ChildProcess {
  const child = spawn(process.execPath, args, { cwd: root, env: { ...env, ...extraEnv }, stdio: ["ignore", "inherit", "inherit"] });
  children.push(child);
  child.on("exit", (code, signal) => {
    if (!stopping) {
      console.error(`[reelay] ${name} exited (${signal ?? code}); stopping the stack.`);
      stop(code ?? 1);
    }
  });
  return child;
}

function runToEnd(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: root, env, stdio: ["ignore", "inherit", "inherit"] });
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`${args.join(" ")} exited with ${code}`))));
  });
}

let stopping = false;
function stop(code = 0): void {
  if (stopping) return;
  stopping = true;
  for (const child of children) {
    try {
      child.kill("SIGTERM");
    } catch {
      // Already gone.
    }
  }
  setTimeout(() => process.exit(code), 1500).unref();
}
process.on("SIGINT", () => stop(0));
process.on("SIGTERM", () => stop(0));

async function waitForHealth(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !stopping) {
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not answer within ${timeoutMs / 1000}s`);
}

await runToEnd([...wrangler, "d1", "migrations", "apply", "reelay", "--local", "--persist-to", stateDir]);
start("wrangler dev", [
  ...wrangler, "dev",
  "--port", String(port),
  "--ip", "127.0.0.1",
  "--persist-to", stateDir,
  "--show-interactive-dev-session=false",
  "--log-level", "warn",
]);
try {
  await waitForHealth(`http://127.0.0.1:${port}/api/health`, 120_000);
  console.log(`\nReelay is running at http://localhost:${port}\n`);
} catch (err) {
  console.error(`[reelay] ${(err as Error).message}`);
  stop(1);
}

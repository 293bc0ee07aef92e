/**
 * `npm start`: the whole stack on one machine, no cloud account. Not Worker
 * code: a Node launcher for the Worker (under `wrangler dev`) and the transcoder.
 * Builds the web pages, applies D1 migrations to the local state, starts the transcoder as a plain
 * Node process (restarted if it dies, as a container would be), starts
 * `wrangler dev` (R2, D1, Durable Objects and Queues simulated under the
 * state directory) pointed at it, waits for `GET /api/health` and prints the
 * URL. Ctrl-C (or SIGTERM) stops everything.
 *
 * The secret both sides share to sign and verify job tokens is made anew
 * each start and never put on a command line (any local user can read
 * /proc/<pid>/cmdline): the transcoder gets it in its environment, wrangler
 * from an env file only this user can read (`dev-secrets.env` in the state
 * directory, removed on stop). The transcoder listens on 127.0.0.1 only.
 *
 * Environment: PORT (default 8787), TRANSCODER_PORT (default 8788),
 * REELAY_STATE_DIR (default .wrangler/state).
 */
import { randomBytes } from "node:crypto";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { ConfigSchema } from "../worker/config.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const port = Number(process.env.PORT ?? 8787);
const transcoderPort = Number(process.env.TRANSCODER_PORT ?? 8788);
// Signs job tokens between the two processes; a new one every start is fine.
const transcoderSecret = randomBytes(32).toString("base64url");
const stateDir = process.env.REELAY_STATE_DIR ?? `${root}.wrangler/state`;
const secretsFile = `${stateDir}/dev-secrets.env`;
const wrangler = [`${root}node_modules/wrangler/bin/wrangler.js`];
// No telemetry, error reports or `request.cf` download: local runs need no network.
const env = {
  ...process.env,
  WRANGLER_SEND_METRICS: "false",
  WRANGLER_SEND_ERROR_REPORTS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
};

const children: ChildProcess[] = [];

function start(
  name: string,
  args: string[],
  opts: { env?: Record<string, string>; restart?: boolean } = {},
): ChildProcess {
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { ...env, ...opts.env },
    stdio: ["ignore", "inherit", "inherit"],
  });
  children.push(child);
  child.on("exit", (code, signal) => {
    children.splice(children.indexOf(child), 1);
    if (stopping) return;
    if (opts.restart) {
      console.error(`[reelay] ${name} exited (${signal ?? code}); restarting it.`);
      setTimeout(() => stopping || start(name, args, opts), 500);
      return;
    }
    console.error(`[reelay] ${name} exited (${signal ?? code}); stopping the stack.`);
    stop(code ?? 1);
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
  for (const child of [...children]) {
    try {
      child.kill("SIGTERM");
    } catch {
      // Already gone.
    }
  }
  rmSync(secretsFile, { force: true });
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

/**
 * The key private videos' playback tokens are signed with, kept with the
 * state (mode 0600) so that tokens handed out survive a restart, as they
 * would a deploy.
 */
async function keptPlaybackKey(): Promise<string> {
  const file = `${stateDir}/playback-signing-key`;
  if (existsSync(file)) return (await readFile(file, "utf8")).trim();
  const key = randomBytes(32).toString("base64url");
  await mkdir(stateDir, { recursive: true });
  await writeFile(file, key, { mode: 0o600 });
  return key;
}

// The pages are static assets: build them first so wrangler serves current ones.
await runToEnd([
  `${root}node_modules/vite/bin/vite.js`,
  "build",
  "--config",
  `${root}web/vite.config.ts`,
  "--logLevel",
  "warn",
]);
await runToEnd([...wrangler, "d1", "migrations", "apply", "reelay", "--local", "--persist-to", stateDir]);
// Created afresh with mode 0600 (a mode given to writeFile applies only to a new file).
await mkdir(stateDir, { recursive: true });
await rm(secretsFile, { force: true });
const playbackSigningKey = process.env.PLAYBACK_SIGNING_KEY ?? (await keptPlaybackKey());
await writeFile(secretsFile, `TRANSCODER_SECRET=${transcoderSecret}\nPLAYBACK_SIGNING_KEY=${playbackSigningKey}\n`, {
  mode: 0o600,
});
// With --env-file wrangler skips .dev.vars, so a person's own .dev.vars is passed first.
const envFiles = [...(existsSync(`${root}.dev.vars`) ? [`${root}.dev.vars`] : []), secretsFile];
// One local process stands in for the fleet of containers (one task each): two spans at once
// (x264 already spreads each encode over every core, so more would only slow each other down),
// and as many first tasks beside them, so an upload is playable in seconds whatever ladder runs.
const slots = process.env.TRANSCODER_CONCURRENCY ?? "2";
start("transcoder", [`${root}transcoder/server.ts`], {
  env: {
    PORT: String(transcoderPort),
    TRANSCODER_PORT: String(transcoderPort),
    TRANSCODER_CONCURRENCY: slots,
    TRANSCODER_HOST: "127.0.0.1",
    TRANSCODER_SECRET: transcoderSecret,
    WORKER_URL: `http://127.0.0.1:${port}`,
  },
  restart: true,
});
start("wrangler dev", [
  ...wrangler,
  "dev",
  "--port",
  String(port),
  "--ip",
  "127.0.0.1",
  "--persist-to",
  stateDir,
  "--show-interactive-dev-session=false",
  // No Docker engine here: the transcoder runs as the Node process above.
  "--enable-containers=false",
  "--var",
  `TRANSCODER_URL:http://127.0.0.1:${transcoderPort}`,
  "--var",
  `PUBLIC_URL:http://127.0.0.1:${port}`,
  // The span scheduler hands out the local transcoder's slots.
  "--var",
  `TRANSCODER_SLOTS:${slots}`,
  ...envFiles.flatMap((file) => ["--env-file", file]),
  // Worker settings set in this environment win over wrangler.toml's (tests shorten the watchdog
  // and the grace periods); the two above are the launcher's own.
  ...Object.keys(ConfigSchema.shape)
    .filter(
      (name) =>
        process.env[name] !== undefined &&
        !["TRANSCODER_URL", "PUBLIC_URL", "TRANSCODER_SLOTS", "PLAYBACK_SIGNING_KEY"].includes(name),
    )
    .flatMap((name) => ["--var", `${name}:${process.env[name]}`]),
  "--log-level",
  "warn",
]);
try {
  await waitForHealth(`http://127.0.0.1:${transcoderPort}/health`, 60_000);
  await waitForHealth(`http://127.0.0.1:${port}/api/health`, 120_000);
  console.log(`\nReelay is running at http://localhost:${port}\n`);
} catch (err) {
  console.error(`[reelay] ${(err as Error).message}`);
  stop(1);
}

// `npm run deploy` runs dev/check-deploy.ts before wrangler deploys: with
// uploads open to anyone unless wrangler.toml says so on purpose, it must
// refuse. Offline, on throwaway configs and on the repository's own; and the
// repository's config, once its operator has chosen, builds for deploy
// (`wrangler deploy --dry-run`) with nothing else to fill in.
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "reelay-check-deploy-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** Runs the check on a config whose [vars] hold `vars` (or on `config` as is); its exit code and output. */
async function check(vars: string | { config: string }) {
  let config: string;
  if (typeof vars === "string") {
    config = join(dir, `wrangler-${Math.random().toString(36).slice(2)}.toml`);
    await writeFile(
      config,
      `name = "reelay"\ncompatibility_date = "2026-11-01"\n\n[vars]\nCORS_ORIGINS = "*"\n${vars}\n`,
    );
  } else {
    config = vars.config;
  }
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      ["dev/check-deploy.ts", "--config", config],
      {
        cwd: root,
      },
    );
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, output: e.stdout + e.stderr };
  }
}

describe("npm run deploy's check", () => {
  it("refuses to deploy when nobody said whether anyone may upload", async () => {
    const refused = await check("");
    expect(refused.code).toBe(1);
    expect(refused.output).toContain("ALLOW_ANONYMOUS_UPLOADS is not set");
    expect(refused.output).toContain("UPLOADER_TOKEN");
  });

  it("refuses a value that is neither true nor false", async () => {
    expect(await check('ALLOW_ANONYMOUS_UPLOADS = "yes"')).toMatchObject({ code: 1 });
  });

  it('deploys with "false" (uploads need the token) and with "true" (anonymous on purpose, with a warning)', async () => {
    expect(await check('ALLOW_ANONYMOUS_UPLOADS = "false"')).toEqual({ code: 0, output: "" });
    const open = await check('ALLOW_ANONYMOUS_UPLOADS = "true"');
    expect(open.code).toBe(0);
    expect(open.output).toContain("anonymous uploads allowed");
  });

  it("refuses the repository's own wrangler.toml until its operator chooses", async () => {
    expect(await check({ config: join(root, "wrangler.toml") })).toMatchObject({ code: 1 });
  });

  it("runs before anything is built or deployed", async () => {
    const { default: pkg } = await import("../../package.json", { with: { type: "json" } });
    expect(pkg.scripts.deploy).toMatch(/^node dev\/check-deploy\.ts && /);
  });

  it("deploys the repository's config once the operator has chosen, with no PUBLIC_URL: containers reach the Worker inside it", async () => {
    const toml = await readFile(join(root, "wrangler.toml"), "utf8");
    expect(toml).not.toMatch(/^\s*PUBLIC_URL\s*=/m);
    // The operator's one edit, in a copy beside the original so its relative paths still hold.
    const chosen = join(root, `.wrangler-check-deploy-${process.pid}.toml`);
    await writeFile(
      chosen,
      toml.replace(/^# ALLOW_ANONYMOUS_UPLOADS = "false"$/m, 'ALLOW_ANONYMOUS_UPLOADS = "false"'),
    );
    const out = join(dir, "bundle");
    const assets = join(dir, "assets");
    await mkdir(assets, { recursive: true });
    try {
      expect(await check({ config: chosen })).toEqual({ code: 0, output: "" });
      // Docker is not needed: the image is neither built nor rolled out. The
      // web app is built separately (npm run build:web); an empty one will do.
      const dry = await promisify(execFile)(
        process.execPath,
        [
          join(root, "node_modules/wrangler/bin/wrangler.js"),
          "deploy",
          "--dry-run",
          "--containers-rollout=none",
          "--config",
          chosen,
          "--outdir",
          out,
          "--assets",
          assets,
        ],
        { cwd: root, env: { ...process.env, WRANGLER_SEND_METRICS: "false" } },
      );
      expect(dry.stdout).toContain("env.TRANSCODER (TranscoderContainer)");
      expect(dry.stdout).not.toContain("PUBLIC_URL");
      expect(dry.stdout).toContain("--dry-run: exiting now.");
      // Outbound interception needs the library's ContainerProxy among the Worker's exports.
      const bundle = await readFile(join(out, "index.js"), "utf8");
      const exported = /export\s*\{([^}]*)\}\s*;?\s*(\/\/# sourceMappingURL=.*)?$/.exec(bundle.trimEnd())?.[1] ?? "";
      expect(exported).toMatch(/\bContainerProxy\b/);
      expect(exported).toMatch(/\bTranscoderContainer\b/);
    } finally {
      await rm(chosen, { force: true });
    }
  });
});

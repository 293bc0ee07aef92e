// `npm run deploy` runs dev/check-deploy.ts before wrangler deploys: with
// uploads open to anyone unless wrangler.toml says so on purpose, it must
// refuse. Offline, on throwaway configs and on the repository's own.
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
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
});

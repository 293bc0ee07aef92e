/**
 * `npm run deploy` runs this first: it refuses to deploy a Worker whose
 * uploads would be open to anyone by accident.
 *
 * Whether `UPLOADER_TOKEN` is set is a secret's existence, which only the
 * account can tell (`wrangler secret list`), so the operator says it, in
 * wrangler.toml's [vars], and the Worker holds them to it:
 * - `ALLOW_ANONYMOUS_UPLOADS = "false"`: uploads need UPLOADER_TOKEN; while
 *   it is missing the Worker refuses every creation (403 uploads_disabled),
 *   never opens them;
 * - `ALLOW_ANONYMOUS_UPLOADS = "true"`: anyone may upload, on purpose;
 * - unset: refused here.
 * Read offline, from the same config wrangler deploys (`--config` to choose
 * another file).
 */
import { parseArgs } from "node:util";
import { unstable_readConfig } from "wrangler";

/** Why the deploy must not go ahead, or undefined when it may. */
export function deployRefusal(vars: Record<string, unknown>): string | undefined {
  const allow = vars.ALLOW_ANONYMOUS_UPLOADS;
  if (allow === "true" || allow === "false") return undefined;
  const said = allow === undefined ? "is not set" : `is ${JSON.stringify(allow)}`;
  return [
    `ALLOW_ANONYMOUS_UPLOADS ${said} in wrangler.toml [vars]: say who may create uploads before deploying.`,
    '  "false": only holders of UPLOADER_TOKEN (run `npx wrangler secret put UPLOADER_TOKEN`; until it is set,',
    "           the Worker refuses every upload);",
    '  "true":  anyone, without a token (anonymous uploads, limited per client by rate and reserved bytes).',
  ].join("\n");
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { config: { type: "string", default: "wrangler.toml" } } });
  const config = unstable_readConfig({ config: values.config });
  const refusal = deployRefusal(config.vars ?? {});
  if (refusal) {
    console.error(`Not deploying. ${refusal}`);
    process.exit(1);
  }
  if (config.vars?.ALLOW_ANONYMOUS_UPLOADS === "true") {
    console.warn('Deploying with anonymous uploads allowed (ALLOW_ANONYMOUS_UPLOADS = "true").');
  }
}

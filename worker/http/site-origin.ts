import { readConfig } from "../config.ts";

/**
 * Where this site is, for the few answers that must name absolute URLs
 * (oEmbed's iframe, a page's oEmbed link): the configured `PUBLIC_URL`, else
 * the origin the request reached. The API's own answers stay root-relative.
 */
export function siteOrigin(env: Env, requestUrl: string): string {
  return new URL(readConfig(env).publicUrl ?? requestUrl).origin;
}

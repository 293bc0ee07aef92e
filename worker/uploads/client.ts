/**
 * Who is creating an upload, as far as limits go: the client's address
 * (`CF-Connecting-IP`, set by Cloudflare's edge), hashed with a key so that
 * what is stored and counted is never the address itself. An IPv6 client
 * counts by its /64, the block one subscriber usually holds, so rotating
 * addresses inside it does not reset its limits.
 *
 * `creatingClient` applies the per-client rate limit on creating uploads
 * (the `UPLOAD_RATE_LIMIT` binding) and leaves the client's key on
 * `c.var.clientKey` for the cap on reserved bytes, which the video's object
 * applies when it records the upload.
 */
import { createMiddleware } from "hono/factory";
import { readConfig } from "../config.ts";
import { toHex } from "../crypto/encoding.ts";
import { apiError } from "../http/errors.ts";

/** The limiter's period (wrangler.toml `simple.period`): a refused client may retry after it. */
const RATE_LIMIT_PERIOD_SECONDS = 60;

/**
 * The address limits count by. Without `CF-Connecting-IP` the request did not
 * come through Cloudflare's edge (a local `wrangler dev` or a test): such
 * requests share one key, `unknown`.
 */
export function clientAddress(header: string | null | undefined): string {
  const ip = header?.trim();
  if (!ip) return "unknown";
  if (!ip.includes(":")) return ip;
  return `${ipv6Hextets(ip).slice(0, 4).join(":")}::/64`;
}

/** The eight hextets of an IPv6 address, `::` expanded; anything unparsable stays as written. */
function ipv6Hextets(ip: string): string[] {
  const [head = "", tail] = ip.toLowerCase().split("::", 2) as [string, string | undefined];
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const zeros = tail === undefined ? [] : Array<string>(Math.max(0, 8 - left.length - right.length)).fill("0");
  return [...left, ...zeros, ...right].map((h) => h.replace(/^0+(?=.)/, ""));
}

const encoder = new TextEncoder();

/** HMAC-SHA-256 of the client's address, keyed by the deployment's secret when there is one. */
export async function clientKey(address: string, secret: string | undefined): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(secret ?? "reelay-client-key"),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = await crypto.subtle.sign("HMAC", key, encoder.encode(address));
  return toHex(new Uint8Array(mac)).slice(0, 32);
}

/** The creating client's key on `c.var.clientKey`, once it is within its rate limit; 429 `rate_limited` past it. */
export const creatingClient = createMiddleware<{ Bindings: Env; Variables: { clientKey: string } }>(async (c, next) => {
  const key = await clientKey(clientAddress(c.req.header("cf-connecting-ip")), readConfig(c.env).transcoderSecret);
  const limiter = c.env.UPLOAD_RATE_LIMIT as RateLimit | undefined;
  if (limiter && !(await limiter.limit({ key })).success) {
    throw apiError("rate_limited", "Too many uploads were created from your address just now; try again later.", {
      retryAfter: RATE_LIMIT_PERIOD_SECONDS,
    });
  }
  c.set("clientKey", key);
  await next();
});

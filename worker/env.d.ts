// Secrets are not in wrangler.toml, so `wrangler types` cannot see them.
interface Env {
  /** When set, creating an upload needs `Authorization: Bearer <API_TOKEN>`. */
  API_TOKEN?: string;
}

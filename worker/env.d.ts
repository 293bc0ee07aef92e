// Secrets are not in wrangler.toml, so `wrangler types` cannot see them.
interface Env {
  /** When set, creating an upload needs `Authorization: Bearer <UPLOADER_TOKEN>`. */
  UPLOADER_TOKEN?: string;
  /** When set, `Authorization: Bearer <ADMIN_TOKEN>` may edit and delete any video. */
  ADMIN_TOKEN?: string;
  /** Older name of UPLOADER_TOKEN, still honoured for creating uploads (and nothing else). */
  API_TOKEN?: string;
  /** Signs private videos' playback tokens; a backend holding it may mint its own (README, "Private videos"). */
  PLAYBACK_SIGNING_KEY?: string;
}

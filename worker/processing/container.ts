/**
 * The transcoder in production: a Cloudflare Container built from
 * transcoder/Dockerfile. Each job gets its own instance (named by job id).
 *
 * Lifetime. An instance stops `sleepAfter` after its last inbound request,
 * and a job sends it only one (`POST /jobs`). So while the job reports
 * progress the Worker renews the instance (`renewActivity`, called from the
 * job's callbacks through transcoder.ts `keepAlive`). A job that falls
 * silent is superseded by the heartbeat watchdog after
 * JOB_HEARTBEAT_TIMEOUT_SECONDS and its renewals stop, so `sleepAfter`, a
 * little over twice that, ends the instance soon after.
 *
 * Data path. The instance has no internet access (`enableInternet = false`).
 * Its requests to `JOB_STORAGE_HOST` are intercepted and answered inside the
 * Worker, with its bindings, by `containerOutbound` (app.ts): the same job
 * storage routes (job-routes.ts) the local transcoder calls over HTTP, token
 * checks and all, and nothing else. The transcoder takes a job only with a
 * token it can verify and URLs under its WORKER_URL, so it is given the
 * signing secret and that internal origin. The interception needs
 * `ContainerProxy` exported from the Worker entry (index.ts).
 *
 * `wrangler dev` without TRANSCODER_URL cannot exercise the interception on
 * machines whose container sidecar is a stand-in that only tunnels inbound
 * traffic (shared/notes/containers-local.md): there the container's calls to
 * the Worker fail. `npm start` uses the local transcoder process instead.
 *
 * The transcoder listens on 0.0.0.0: the Container class reaches the port
 * from outside the container's own loopback.
 */
import { Container } from "@cloudflare/containers";
import { containerOutbound } from "../app.ts";
import { readConfig } from "../config.ts";
import { JOB_STORAGE_HOST, JOB_STORAGE_ORIGIN } from "./transcoder.ts";

export class TranscoderContainer extends Container<Env> {
  override defaultPort = 8080;
  override enableInternet = false;

  constructor(...args: ConstructorParameters<typeof Container<Env>>) {
    super(...args);
    const config = readConfig(args[1]);
    // Set before the base class first reads it (after a microtask, in its blockConcurrencyWhile).
    this.sleepAfter = Math.max(60, Math.ceil((2 * config.jobHeartbeatTimeoutMs) / 1000) + 30);
    this.envVars = {
      TRANSCODER_CONCURRENCY: "1",
      TRANSCODER_HOST: "0.0.0.0",
      TRANSCODER_PORT: String(this.defaultPort),
      WORKER_URL: JOB_STORAGE_ORIGIN,
      // Without it the transcoder refuses to start, and hand-offs fail loudly (queue.ts needs it too).
      ...(config.transcoderSecret ? { TRANSCODER_SECRET: config.transcoderSecret } : {}),
    };
  }

  /**
   * RPC: the job this instance runs made progress; it may idle another
   * `sleepAfter` before it is stopped. Says whether a container was running
   * to renew (no instance is started by asking).
   */
  renewActivity(): boolean {
    if (!this.ctx.container?.running) return false;
    this.renewActivityTimeout();
    return true;
  }
}

// Through the setter, not a static field: the library keeps handlers in a
// registry by class name, which a field of the same name would bypass.
TranscoderContainer.outboundByHost = {
  [JOB_STORAGE_HOST]: (request, env) => containerOutbound.fetch(request, env),
};

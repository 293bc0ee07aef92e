/**
 * The transcoder in production: a Cloudflare Container built from
 * transcoder/Dockerfile. Each job gets its own instance (named by job id),
 * which sleeps once it has been idle for a while.
 *
 * The transcoder takes a job only with a job token it can verify and URLs
 * under the worker, so it is given the signing secret and the worker's public
 * URL. It listens on 0.0.0.0: the Container class reaches the port from
 * outside the container's own loopback.
 */
import { Container } from "@cloudflare/containers";
import { readConfig } from "../config.ts";

export class TranscoderContainer extends Container<Env> {
  override defaultPort = 8080;
  override sleepAfter = "10m";

  constructor(...args: ConstructorParameters<typeof Container<Env>>) {
    super(...args);
    const config = readConfig(args[1]);
    this.envVars = {
      TRANSCODER_CONCURRENCY: "1",
      TRANSCODER_HOST: "0.0.0.0",
      TRANSCODER_PORT: String(this.defaultPort),
      // Without them the transcoder refuses to start, and hand-offs fail loudly (queue.ts needs them too).
      ...(config.transcoderSecret ? { TRANSCODER_SECRET: config.transcoderSecret } : {}),
      ...(config.publicUrl ? { WORKER_URL: config.publicUrl } : {}),
    };
  }
}

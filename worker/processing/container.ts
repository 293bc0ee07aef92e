/**
 * The transcoder in production: a Cloudflare Container built from
 * transcoder/Dockerfile. Each job gets its own instance (named by job id),
 * which sleeps once it has been idle for a while.
 */
import { Container } from "@cloudflare/containers";

export class TranscoderContainer extends Container<Env> {
  override defaultPort = 8080;
  override sleepAfter = "10m";
  override envVars: Record<string, string> = { TRANSCODER_CONCURRENCY: "1" };
}

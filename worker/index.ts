// The Worker entry only wires: the HTTP app, the queue consumers and the
// Durable Object / Container classes.
import { app } from "./app.ts";
import { consumeDeadLetters, consumeTranscodeJobs } from "./processing/queue.ts";
import { consumeImports } from "./imports/import-fetch.ts";
import { consumeEvents } from "./webhooks/fan-out.ts";

export { VideoObject } from "./video-object/video-object.ts";
export { TranscoderContainer } from "./processing/container.ts";
export { SpanScheduler } from "./scheduler/span-scheduler.ts";
export { WebhookSender } from "./webhooks/webhook-sender.ts";
// Answers the containers' outbound requests (processing/container.ts `outboundByHost`).
export { ContainerProxy } from "@cloudflare/containers";

export default {
  fetch: app.fetch,
  async queue(batch, env) {
    if (batch.queue.endsWith("-dlq")) return consumeDeadLetters(batch, env);
    if (batch.queue === "reelay-import") return consumeImports(batch, env);
    if (batch.queue === "reelay-events") return consumeEvents(batch, env);
    return consumeTranscodeJobs(batch, env);
  },
} satisfies ExportedHandler<Env>;

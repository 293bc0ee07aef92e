// The Worker entry only wires: the HTTP app and the Durable Object class.
import { app } from "./app.ts";

export { VideoUpload } from "./uploads/coordinator.ts";

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;

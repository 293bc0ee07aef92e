/** `GET /api/health`: the worker is up. */
import { z } from "zod";

export const HealthSchema = z.object({ ok: z.literal(true) }).meta({ id: "Health" });
export type Health = z.infer<typeof HealthSchema>;

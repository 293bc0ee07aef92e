/**
 * oEmbed (https://oembed.com): what `GET /api/oembed` takes and answers, so
 * that a watch or embed link pasted into a CMS or a chat app becomes a player.
 */
import { z } from "zod";
import { decimalInt } from "./decimal-int.ts";

export const OEmbedQuerySchema = z.object({
  url: z.string().min(1).max(2048).describe("A watch (`/watch/:id`) or embed (`/embed/:id`) URL of this site."),
  maxwidth: decimalInt(1, 10_000).optional().describe("The widest the player may be, in pixels."),
  maxheight: decimalInt(1, 10_000).optional().describe("The tallest the player may be, in pixels."),
  format: z.enum(["json", "xml"]).default("json").describe("`json` by default."),
});

/** A `video` oEmbed response (oEmbed 1.0 §2.3.4.4): an iframe of the embed page. */
export const OEmbedSchema = z
  .object({
    version: z.literal("1.0"),
    type: z.literal("video"),
    provider_name: z.string(),
    provider_url: z.string(),
    title: z.string(),
    html: z.string(),
    width: z.number().int(),
    height: z.number().int(),
    thumbnail_url: z.string().optional(),
    thumbnail_width: z.number().int().optional(),
    thumbnail_height: z.number().int().optional(),
  })
  .meta({ id: "OEmbed" });
export type OEmbed = z.infer<typeof OEmbedSchema>;

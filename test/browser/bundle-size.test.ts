// Budgets for the JavaScript each page loads (gzip): the pages must stay
// fast on a phone. Reads the built web/dist (`npm run test:browser` builds it
// first): each page's <script> and modulepreload links, plus every chunk
// those import, statically or dynamically (the watch page loads its player so).
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { root } from "../stack.ts";

const dist = join(root, "web/dist");
const KB = 1024;
// The embed page is the player alone: it must weigh no more than the watch page, which has the player too.
const budgets: Record<string, number> = { index: 20 * KB, upload: 20 * KB, watch: 200 * KB, embed: 200 * KB };

async function pageScripts(page: string): Promise<string[]> {
  const html = await readFile(join(dist, `${page}.html`), "utf8");
  const todo = [
    ...html.matchAll(/<script[^>]+src="([^"]+)"/g),
    ...html.matchAll(/<link[^>]+rel="modulepreload"[^>]+href="([^"]+)"/g),
  ].map((m) => m[1]);
  const found = new Set<string>();
  for (let src = todo.pop(); src !== undefined; src = todo.pop()) {
    if (found.has(src)) continue;
    found.add(src);
    // Chunks name their siblings as "./name-hash.js" (in any quotes) in imports and preload maps.
    const code = await readFile(join(dist, src), "utf8");
    const dir = src.slice(0, src.lastIndexOf("/") + 1);
    for (const m of code.matchAll(/["'`]\.\/([\w.-]+\.js)["'`]/g)) todo.push(dir + m[1]);
  }
  return [...found];
}

describe("page weight", () => {
  it("keeps each page's JavaScript within its gzip budget", async () => {
    const lines: string[] = [];
    for (const [page, budget] of Object.entries(budgets)) {
      const scripts = await pageScripts(page);
      expect(scripts.length, `${page}.html loads its script`).toBeGreaterThan(0);
      let raw = 0;
      let gzip = 0;
      for (const src of scripts) {
        const bytes = await readFile(join(dist, src));
        raw += bytes.length;
        gzip += gzipSync(bytes, { level: 9 }).length;
      }
      lines.push(
        `${page.padEnd(7)} ${(gzip / KB).toFixed(1).padStart(6)} KB gzip (${(raw / KB).toFixed(1)} KB raw, ${scripts.length} files; budget ${budget / KB} KB)`,
      );
      expect(gzip, `${page} JS gzip bytes`).toBeLessThanOrEqual(budget);
    }
    console.log(`JavaScript per page:\n${lines.join("\n")}`);
  });
});

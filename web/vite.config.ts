/**
 * Builds the pages in web/ into web/dist, which Workers static assets serve.
 * Multi-page: every page is plain HTML plus a small TypeScript module; hls.js
 * is imported only by the watch page, so only that page pays for it. The API
 * reference (/api/docs) is Swagger UI, copied as it is published.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig, type Plugin } from "vite";

const root = fileURLToPath(new URL(".", import.meta.url));

/**
 * Swagger UI's browser bundle and stylesheet, with their licences, into
 * dist/vendor/swagger-ui/ for the page worker/openapi/api-reference.ts
 * serves: self-hosted, since the pages fetch nothing from other origins (CSP)
 * and tests run offline. Only that page loads them.
 */
function swaggerUi(): Plugin {
  const dist = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
  const files = ["swagger-ui-bundle.js", "swagger-ui-bundle.js.LICENSE.txt", "swagger-ui.css", "LICENSE", "NOTICE"];
  return {
    name: "reelay-swagger-ui",
    apply: "build",
    generateBundle() {
      for (const file of files) {
        this.emitFile({ type: "asset", fileName: `vendor/swagger-ui/${file}`, source: readFileSync(join(dist, file)) });
      }
    },
  };
}

export default defineConfig({
  root,
  plugins: [swaggerUi()],
  publicDir: resolve(root, "public"),
  build: {
    outDir: resolve(root, "dist"),
    emptyOutDir: true,
    // Every browser we target supports <link rel=modulepreload>; the polyfill is dead weight.
    modulePreload: { polyfill: false },
    // hls.js's full build (alternate audio needs it) is ~580 kB minified on its own; what counts is
    // gzip per page, which test/browser/bundle-size.test.ts holds to a budget.
    chunkSizeWarningLimit: 640,
    rollupOptions: {
      input: {
        index: resolve(root, "index.html"),
        upload: resolve(root, "upload.html"),
        watch: resolve(root, "watch.html"),
        embed: resolve(root, "embed.html"),
        // Served by the assets binding for unknown paths (not_found_handling = "404-page").
        404: resolve(root, "404.html"),
      },
    },
  },
});

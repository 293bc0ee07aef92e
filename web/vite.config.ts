/**
 * Builds the pages in web/ into web/dist, which Workers static assets serve.
 * Multi-page: every page is plain HTML plus a small TypeScript module; hls.js
 * is imported only by the watch page, so only that page pays for it.
 */
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const root = fileURLToPath(new URL(".", import.meta.url));

export default defineConfig({
  root,
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
        // Served by the assets binding for unknown paths (not_found_handling = "404-page").
        404: resolve(root, "404.html"),
      },
    },
  },
});

/**
 * Two test projects:
 * - `worker`: tests beside the code in worker/, run inside workerd by the
 *   Workers vitest integration with real R2, D1, Durable Object and Queue
 *   simulators; D1 migrations from drizzle/ are applied in a setup file.
 * - `transcoder`: Node tests beside the transcoder code, running real ffmpeg
 *   on videos they generate with testsrc2/sine.
 * - `browser`: Debian's Chromium driven by playwright-core against the real
 *   stack (`npm run test:browser`, run by .ci/run after `npm test`).
 * - `chaos`: fault injection against the real stack (`npm run test:chaos`).
 * - `e2e`: Node tests in test/e2e that start the real stack with `npm start`.
 */
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const root = fileURLToPath(new URL("..", import.meta.url));

export default defineConfig(async () => {
  const migrations = await readD1Migrations(`${root}/drizzle`);
  return {
    test: {
      root,
      projects: [
        {
          plugins: [
            cloudflareTest({
              wrangler: { configPath: `${root}/wrangler.toml` },
              miniflare: {
                bindings: {
                  TEST_MIGRATIONS: migrations,
                  // Nothing listens on port 9: hand-offs fail fast, as with a transcoder down.
                  TRANSCODER_URL: "http://127.0.0.1:9",
                  TRANSCODER_SECRET: "test-secret-0123456789abcdef",
                  PUBLIC_URL: "http://reelay.test",
                  JOB_HEARTBEAT_TIMEOUT_SECONDS: "30",
                },
              },
            }),
          ],
          test: {
            name: "worker",
            root,
            include: ["worker/**/*.test.ts", "web/src/**/*.test.ts"],
            setupFiles: ["worker/testing/setup.ts"],
            testTimeout: 60_000,
          },
        },
        {
          test: {
            name: "transcoder",
            root,
            include: ["transcoder/**/*.test.ts"],
            environment: "node",
            testTimeout: 180_000,
            hookTimeout: 180_000,
          },
        },
        {
          test: {
            name: "browser",
            root,
            include: ["test/browser/**/*.test.ts"],
            environment: "node",
            testTimeout: 300_000,
            hookTimeout: 180_000,
            fileParallelism: false,
          },
        },
        {
          test: {
            name: "chaos",
            root,
            include: ["test/chaos/**/*.test.ts"],
            environment: "node",
            testTimeout: 900_000,
            hookTimeout: 180_000,
            fileParallelism: false,
          },
        },
        {
          test: {
            name: "e2e",
            root,
            include: ["test/e2e/**/*.test.ts"],
            environment: "node",
            testTimeout: 300_000,
            hookTimeout: 180_000,
            fileParallelism: false,
          },
        },
      ],
    },
  };
});

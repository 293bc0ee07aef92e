/**
 * Five test projects. `npm test` runs the first three; the last two are slow
 * and run on their own (.ci/run runs them after `npm test`).
 * - `worker`: tests beside the code in worker/ (and web/src), run inside
 *   workerd by the Workers vitest integration with real R2, D1, Durable Object
 *   and Queue simulators; D1 migrations from drizzle/ are applied in a setup
 *   file, and hand-offs reach a transcoder stand-in started by
 *   test/transcoder-stand-in.ts, which also serves the files imports fetch.
 * - `transcoder`: Node tests beside the transcoder code, running real ffmpeg
 *   on videos they generate with testsrc2/sine.
 * - `e2e`: Node tests in test/e2e against the real stack, started as a person
 *   would with `npm start` (test/stack.ts).
 * - `browser`: Debian's Chromium driven by playwright-core against the real
 *   stack (`npm run test:browser`).
 * - `chaos`: fault injection against the real stack (`npm run test:chaos`).
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
            cloudflareTest(({ inject }) => ({
              wrangler: { configPath: `${root}/wrangler.toml` },
              miniflare: {
                bindings: {
                  TEST_MIGRATIONS: migrations,
                  // A stand-in speaking the transcoder's POST /jobs; each test scripts its videos' answers, and
                  // an unscripted hand-off finds the transcoder down (test/transcoder-stand-in.ts).
                  TRANSCODER_URL: inject("transcoderUrl"),
                  TRANSCODER_SECRET: "test-secret-0123456789abcdef",
                  PLAYBACK_SIGNING_KEY: "test-playback-signing-key-0123456789abcdef",
                  PUBLIC_URL: "http://reelay.test",
                  JOB_HEARTBEAT_TIMEOUT_SECONDS: "30",
                  // Three span slots, one video holding one of them while another waits.
                  TRANSCODER_SLOTS: "3",
                  SPAN_SHARE_PERCENT: "34",
                  // Imports fetch from the stand-in, a plain http server (worker/imports/imports.test.ts);
                  // the cap is small so that a file over it is cheap to describe.
                  ALLOW_HTTP_IMPORTS: "true",
                  MAX_IMPORT_BYTES: String(64 * 1024 * 1024),
                },
              },
            })),
          ],
          test: {
            name: "worker",
            root,
            include: ["worker/**/*.test.ts", "web/src/**/*.test.ts"],
            globalSetup: ["test/transcoder-stand-in.ts"],
            setupFiles: ["worker/testing/setup.ts"],
            testTimeout: 60_000,
          },
        },
        {
          test: {
            name: "transcoder",
            root,
            // Node-side code: the transcoder, and the upload CLI's file reading.
            include: ["transcoder/**/*.test.ts", "web/cli/**/*.test.ts"],
            environment: "node",
            testTimeout: 180_000,
            hookTimeout: 180_000,
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
      ],
    },
  };
});

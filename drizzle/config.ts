import { defineConfig } from "drizzle-kit";

// Migrations land in drizzle/ as plain SQL; wrangler applies them to D1
// (`migrations_dir` in wrangler.toml), locally on `npm start` and in tests.
export default defineConfig({
  dialect: "sqlite",
  schema: "./worker/db/schema.ts",
  out: "./drizzle",
});

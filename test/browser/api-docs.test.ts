// The API reference (/api/docs) in Debian's Chromium against the real stack:
// Swagger UI, self-hosted, renders every operation of /api/openapi.json and
// runs one ("Try it out"), under the pages' own Content-Security-Policy with
// no violation and no request to another origin.
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStack, type Stack } from "../stack.ts";
import { launchBrowser, shot } from "./helpers.ts";
import { observe, type Observed } from "./page-probes.ts";

let stack: Stack;
let browser: Browser;

beforeAll(async () => {
  [stack, browser] = await Promise.all([startStack(), launchBrowser()]);
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

describe("/api/docs", () => {
  it("renders every operation and runs one, with no CSP violation and nothing fetched from elsewhere", async () => {
    const doc = (await (await fetch(`${stack.url}/api/openapi.json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const operations = Object.values(doc.paths).reduce((n, item) => n + Object.keys(item).length, 0);

    const seen: Observed = { dialogs: [], problems: [] };
    const page = observe(await browser.newPage({ viewport: { width: 1280, height: 900 } }), seen);
    await page.addInitScript(() => {
      document.addEventListener("securitypolicyviolation", (e) => {
        console.error(`Content Security Policy: ${e.effectiveDirective} blocked ${e.blockedURI}`);
      });
    });
    const elsewhere: string[] = [];
    page.on("request", (r) => {
      if (!r.url().startsWith(stack.url) && !r.url().startsWith("data:")) elsewhere.push(r.url());
    });

    const res = await page.goto(`${stack.url}/api/docs`);
    expect(res?.headers()["content-security-policy"]).toContain("script-src 'self';");
    await page
      .locator(".opblock")
      .nth(operations - 1)
      .waitFor({ timeout: 30_000 });
    expect(await page.locator(".opblock").count()).toBe(operations);
    await expect.poll(() => page.locator(".info .title").textContent()).toContain("Reelay API");

    // Try GET /api/health from the page: the call goes to the same origin and its answer shows.
    const health = page.locator("#operations-health-health");
    await health.locator(".opblock-summary").click();
    await health.locator("button.try-out__btn").click();
    await health.locator("button.execute").click();
    const status = health.locator(".live-responses-table tr.response .response-col_status");
    await expect.poll(() => status.textContent(), { timeout: 15_000 }).toContain("200");
    await expect
      .poll(() => health.locator(".live-responses-table .microlight").first().textContent())
      .toContain('"ok": true');
    await shot(page, "api-docs");

    expect(seen.problems).toEqual([]);
    expect(elsewhere).toEqual([]);
    await page.close();
  });
});

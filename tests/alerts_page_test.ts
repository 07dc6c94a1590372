import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import type { Page } from "playwright-core";
import { openDatabase } from "../lib/database.ts";
import { setupTelemetry } from "../lib/telemetry.ts";
import { poolAlertRules } from "../lib/service/alert_rules.ts";
import { readConfig } from "../lib/service/config.ts";
import { startService } from "../lib/service/server.ts";
import { checkpointDatabaseUrl, uniquePoolName } from "../lib/workshop/checkpoint_database.ts";
import { CHROMIUM_INSTALL, hasChromium, launchChromium } from "./support/chromium.ts";
import { requirement } from "./support/requirement.ts";

const ARTIFACTS = new URL("../test-artifacts/", import.meta.url);

/** The alert panel's rows as `name: FIRING|ok`. */
async function panel(page: Page): Promise<Record<string, string>> {
  const rows = await page.$$eval(
    "#alerts tbody tr",
    (trs) => trs.map((tr) => [tr.children[1].textContent, tr.children[2].textContent]),
  );
  return Object.fromEntries(rows);
}

Deno.test({
  name:
    "the demo page's alert panel shows which alerts would fire now: warning at 4 of 5, critical at 5, leak, timeouts",
  ...requirement("Chromium", hasChromium(), CHROMIUM_INSTALL),
  async fn() {
    const telemetry = await setupTelemetry({ otlpEndpoint: false, log: () => {} });
    const database = await openDatabase({ url: checkpointDatabaseUrl() });
    const config = readConfig(
      new Map([["PORT", "0"], ["POOL_NAME", uniquePoolName("alerts-page")], ["FAIL_EVERY", "1"], [
        "ACQUIRE_TIMEOUT_MS",
        "300",
      ]]),
    );
    const service = await startService(config, { telemetry, database, log: () => {}, warn: () => {} });
    const browser = await launchChromium();
    try {
      const { page } = browser;
      const pageErrors: string[] = [];
      page.on("pageerror", (error) => pageErrors.push(error.message));
      await page.goto(service.url);
      await page.waitForSelector("body[data-ready=true]");
      const alerts = poolAlertRules().map((r) => r.alert);
      assertEquals(Object.keys(await panel(page)), alerts, "one row per rule of prometheus/alerts.yml, in order");
      assertEquals(Object.values(await panel(page)), alerts.map(() => "ok"));
      assertEquals(await page.textContent("#alerts-summary"), "none would fire now");
      assertStringIncludes((await page.textContent("#alerts-hint"))!, "for 2m");
      const details = await page.$$eval("#alerts tbody td:nth-child(4)", (tds) => tds.map((td) => td.textContent));
      assert(!details.includes("not evaluated on this page"), `every alert is evaluated: ${details}`);

      const idle = () => page.locator("#bad-1:enabled").waitFor();
      const rowCount = (n: number) => page.locator("#log tr.request").nth(n - 1).waitFor();
      for (let i = 1; i <= 4; i++) {
        await page.click("#bad-1");
        await rowCount(i);
        await idle();
      }
      let now = await panel(page);
      assertEquals([now.DbPoolUtilisationWarning, now.DbPoolUtilisationCritical], ["FIRING", "ok"], "4 of 5: warning");
      assertEquals(now.DbPoolConnectionLeaked, "FIRING");
      assertStringIncludes(
        (await page.textContent('#alerts tr[data-alert="DbPoolUtilisationWarning"]'))!,
        "4 of 5 connections in use (80 %); warning at 70 %",
      );
      // No Jaeger was found: no search link that would come back empty, a pointer to the in-memory traces instead.
      assertEquals(await page.locator("#alerts-leak-search a").count(), 0);
      assertStringIncludes((await page.textContent("#alerts-leak-search"))!, "no Jaeger was found");

      await page.click("#bad-1");
      await rowCount(5);
      await idle();
      now = await panel(page);
      assertEquals([now.DbPoolUtilisationWarning, now.DbPoolUtilisationCritical], ["FIRING", "FIRING"], "5 of 5");
      await page.click("#bad-1"); // exhausted: this one times out
      await rowCount(6);
      await idle();
      now = await panel(page);
      assertEquals(now.DbPoolAcquireTimeouts, "FIRING");
      assertEquals(
        await page.getAttribute('#alerts tr[data-alert="DbPoolUtilisationCritical"]', "class"),
        "firing critical",
      );
      await Deno.mkdir(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: new URL("demo-alerts.png", ARTIFACTS).pathname, fullPage: true });

      await page.click("#reset");
      await idle();
      now = await panel(page);
      assertEquals(
        Object.entries(now).filter(([, state]) => state === "FIRING").map(([name]) => name),
        ["DbPoolAcquireTimeouts"],
        "after the reset only the timeout, still inside its window, would fire",
      );
      assert(await page.locator("#alerts-leak-search").isHidden());
      assertEquals(pageErrors, []);
    } finally {
      await browser.close();
      await service.close();
      await telemetry.shutdown();
    }
  },
});

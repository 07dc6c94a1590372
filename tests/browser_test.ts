import { assert, assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { openDatabase } from "../lib/database.ts";
import { setupTelemetry } from "../lib/telemetry.ts";
import { readConfig } from "../lib/service/config.ts";
import { startService } from "../lib/service/server.ts";
import { checkpointDatabaseUrl, uniquePoolName } from "../lib/workshop/checkpoint_database.ts";
import { CHROMIUM_INSTALL, hasChromium, launchChromium } from "./support/chromium.ts";
import { requirement } from "./support/requirement.ts";

const ARTIFACTS = new URL("../test-artifacts/", import.meta.url);

Deno.test({
  name:
    "the demo page: bad ×10 exhausts the pool (red gauges), reset heals, good ×10 stays healthy, a trace opens inline",
  ...requirement("Chromium", hasChromium(), CHROMIUM_INSTALL),
  async fn() {
    const telemetry = await setupTelemetry({ otlpEndpoint: false, log: () => {} });
    const database = await openDatabase({ url: checkpointDatabaseUrl() });
    const config = readConfig(
      new Map([["PORT", "0"], ["POOL_NAME", uniquePoolName("browser")], ["FAIL_EVERY", "2"], [
        "ACQUIRE_TIMEOUT_MS",
        "300",
      ]]),
    );
    const service = await startService(config, { telemetry, database, log: () => {}, warn: () => {} });
    const browser = await launchChromium({ width: 1280, height: 1000 });
    try {
      const { page } = browser;
      const pageErrors: string[] = [];
      page.on("pageerror", (error) => pageErrors.push(error.message));
      // The Content-Security-Policy must let the page, plotly and the waterfall's inline styles work.
      page.on("console", (message) => {
        if (/Content Security Policy|Refused to/i.test(message.text())) pageErrors.push(message.text());
      });
      const postTypes = new Set<string>();
      page.on("request", (request) => {
        if (request.method() === "POST") postTypes.add(request.headers()["content-type"] ?? "(none)");
      });
      await page.addInitScript(
        `globalThis.__cspViolations = []; document.addEventListener("securitypolicyviolation", ` +
          `(e) => globalThis.__cspViolations.push(e.violatedDirective + " " + e.blockedURI));`,
      );
      await page.goto(service.url);
      await page.waitForSelector("body[data-ready=true]");
      assertEquals(await page.textContent("#about-faults"), "every 2nd query fails");
      assertStringIncludes((await page.textContent("#about-jaeger"))!, "not found");

      const rows = () => page.locator("#log tr.request").count();
      const gauge = (name: string) => page.textContent(`#gauge-${name} .value`);
      const idle = () => page.locator("#bad-1:enabled").waitFor();
      const rowCount = (n: number) => page.locator("#log tr.request").nth(n - 1).waitFor();

      // Two leaks in a pool that is otherwise fine ("ok" level): the leaked bar is as red as its number.
      await page.click("#bad-1");
      await rowCount(1);
      await idle();
      await page.click("#bad-1");
      await rowCount(2);
      await idle();
      assertEquals([await gauge("leaked"), await page.getAttribute("#gauges", "data-level")], ["1", "ok"]);
      // The meter's bar is a pseudo-element getComputedStyle cannot read: read its pixels from a screenshot instead.
      const shot = await page.locator("#gauge-leaked meter").screenshot();
      const leakedBar = await page.evaluate(`(async () => {
        const image = new Image();
        image.src = "data:image/png;base64,${btoa(String.fromCharCode(...shot))}";
        await image.decode();
        const canvas = document.createElement("canvas");
        [canvas.width, canvas.height] = [image.width, image.height];
        const context = canvas.getContext("2d");
        context.drawImage(image, 0, 0);
        const [r, g, b] = context.getImageData(2, Math.floor(image.height / 2), 1, 1).data; // the bar's left end
        return "rgb(" + r + ", " + g + ", " + b + ")";
      })()`);
      const leakedNumber = await page.evaluate(
        "getComputedStyle(document.querySelector('#gauge-leaked .value')).color",
      );
      assertEquals([leakedBar, leakedNumber], ["rgb(220, 38, 38)", "rgb(220, 38, 38)"], "red bar under a red number");

      await page.click("#bad-10");
      await rowCount(12);
      await idle();
      assertEquals([await gauge("active"), await gauge("available"), await gauge("leaked")], ["5", "0", "5"]);
      assertEquals(await page.getAttribute("#gauges", "data-level"), "crit");
      const border = await page.evaluate("getComputedStyle(document.querySelector('#gauge-active')).borderTopColor");
      assertEquals(border, "rgb(220, 38, 38)", "critical gauges are red");
      assertStringIncludes((await page.textContent("#banner"))!, "Connection pool exhausted: 5 of 5 connections");

      await page.click("#bad-1"); // the outage: the next request waits ACQUIRE_TIMEOUT_MS and gets 503
      await rowCount(13);
      await idle();
      assertEquals(await page.textContent("#log tr.request:first-child td:nth-child(3)"), "503");
      const banner = (await page.textContent("#banner"))!;
      assertMatch(
        banner,
        /Last error: Connection pool exhausted: pool "[^"]+" had no connection available after waiting \d+ms \(total=5, active=5, idle=0, waiting=0, leaked=5\)\. \(the whole message: its row below\)$/,
      );
      // The 503's seven lines: one in the table, the holders behind a click.
      const rejected = page.locator("#log tr.request").first().locator("details.error");
      assertEquals(await rejected.evaluate((d) => (d as unknown as { open: boolean }).open), false);
      assertMatch((await rejected.locator("summary").textContent())!, /^Connection pool exhausted: .*leaked=5\)\.$/);
      const rowHeight = await page.locator("#log tr.request").first().evaluate((r) => r.getBoundingClientRect().height);
      assert(rowHeight < 80, `a 503 row stays short: ${rowHeight} px`);
      await rejected.locator("summary").click();
      assertStringIncludes((await rejected.locator("pre").textContent())!, "lib/demo/query_handlers.ts");
      assertEquals(await page.locator("#log tr.waterfall").count(), 0, "opening the detail does not open the trace");
      await Deno.mkdir(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: new URL("demo-exhausted.png", ARTIFACTS).pathname, fullPage: true });

      await page.click("#reset");
      await idle();
      assertStringIncludes((await page.textContent("#banner"))!, "Pool reset: 5 leaked connection(s) reclaimed");
      assertEquals([await gauge("active"), await gauge("leaked")], ["0", "0"]);
      assertEquals(await page.getAttribute("#gauges", "data-level"), "ok");
      // The pool is healthy, yet the timeouts alert still fires: it says why, and when it clears.
      const timeouts = page.locator('#alerts tr[data-alert="DbPoolAcquireTimeouts"]');
      assertEquals(await timeouts.locator("td:nth-child(3)").textContent(), "FIRING");
      assertMatch(
        (await timeouts.locator("td:nth-child(4)").textContent())!,
        /^\d acquire\(s\) timed out .*; none is timing out now, but this alert counts the last 5 min \(a rate over a window\), so it keeps firing after a reset: it clears in about \d+ min( \d+ s)? if no acquire times out meanwhile$/,
      );

      await page.click("#good-10");
      await rowCount(23);
      await idle();
      assertEquals([await gauge("active"), await gauge("leaked"), await gauge("available")], ["0", "0", "5"]);
      assertEquals(await page.getAttribute("#gauges", "data-level"), "ok");
      const statuses = await page.$$eval(
        "#log tr.request td:nth-child(3)",
        (cells) => cells.slice(0, 10).map((c) => c.textContent),
      );
      assertEquals(statuses.filter((s) => s === "200").length, 5, "good ×10: half the queries fail...");
      assertEquals(statuses.filter((s) => s === "500").length, 5, "...and none is rejected");
      assertEquals(await rows(), 23);
      assertEquals(await page.locator("#timeline .scatterlayer .trace").count(), 3, "plotly drew 3 lines");
      // leaked first, a wide pale band, so active (equal to it while every connection out is leaked) shows on top.
      const series = await page.evaluate(
        "document.getElementById('timeline').data.map((d) => [d.name, d.line.width, d.opacity ?? 1])",
      );
      assertEquals(series, [["leaked", 9, 0.35], ["active", 2, 1], ["available", 2, 1]]);
      const markers = await page.locator("#timeline .scatterlayer .trace:nth-child(2) .points path").count();
      assertEquals(markers, 25, "one point of active per request, plus the start and the reset");

      // Open the waterfall of the first failed bad request (the 2nd request, 22nd row from the top).
      const failedBad = page.locator("#log tr.request").nth(21);
      assertEquals(await failedBad.locator("td:nth-child(3)").textContent(), "500");
      await failedBad.click();
      const waterfall = page.locator("#log tr.waterfall .leak-lab-waterfall");
      await waterfall.waitFor();
      const text = (await waterfall.textContent())!;
      for (
        const part of ["POST /api/bad", "bad_query_with_leak", "get_connection", "database.query", "connection_leaked"]
      ) {
        assertStringIncludes(text, part);
      }
      // No Jaeger was found: the row shows its trace id, never a link that opens nothing.
      assertEquals(await failedBad.locator("a").count(), 0);
      assertMatch((await failedBad.locator("td:last-child code").textContent())!, /^[0-9a-f]{12}…$/);
      assertEquals(await page.locator("#log a[href*='16686']").count(), 0);

      await page.screenshot({ path: new URL("demo-page.png", ARTIFACTS).pathname, fullPage: true });
      assertEquals(pageErrors, []);
      const violations = await page.evaluate("globalThis.__cspViolations ?? []");
      assertEquals(violations, [], "no Content-Security-Policy violation");
      assertEquals([...postTypes], ["application/json"], "the page's POSTs are JSON (browser_guard.ts)");
    } finally {
      await browser.close();
      await service.close();
      await telemetry.shutdown();
    }
  },
});

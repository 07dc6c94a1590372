/**
 * No dead links on the demo page: traces exported to something on the OTLP port (a Collector, say) are not
 * a Jaeger UI. The page and its API link into Jaeger only when the UI answered (issue #20).
 */
import { assertEquals, assertNotMatch, assertStringIncludes } from "@std/assert";
import { FaultSchedule } from "../lib/demo/fault_schedule.ts";
import { LEAK_SEARCH_TAGS, TracedPool } from "../lib/pool.ts";
import { createApp } from "../lib/service/app.ts";
import { tracedHandlers } from "../lib/service/demo_pool.ts";
import { jaegerSearchUrl, jaegerUiUrl, setupTelemetry } from "../lib/telemetry.ts";
import { checkpointDatabaseUrl, uniquePoolName } from "../lib/workshop/checkpoint_database.ts";

Deno.test("the page's API links a trace and the leak search only when traces are exported and the Jaeger UI answers", async () => {
  const telemetry = await setupTelemetry({ otlpEndpoint: false, log: () => {} });
  const pool = new TracedPool({ connectionString: checkpointDatabaseUrl(), name: uniquePoolName("ui"), log: () => {} });
  const handlers = tracedHandlers(pool, new FaultSchedule({ failEvery: 1 }));
  const ui = jaegerUiUrl(); // what the trace links use (JAEGER_UI_URL, else localhost:16686); nothing is fetched
  try {
    for (const jaegerUiAnswers of [false, true]) {
      const app = createApp({
        pool,
        handlers,
        faults: new FaultSchedule({ failEvery: 1 }),
        spans: telemetry.spans,
        about: {
          exportingTo: "http://127.0.0.1:4318/v1/traces",
          serviceName: "leak-lab",
          jaegerUi: ui,
          jaegerUiAnswers,
        },
      });
      const info = await (await app(new Request("http://127.0.0.1:9000/api/info"))).json();
      const bad = await (await app(
        new Request("http://127.0.0.1:9000/api/bad", {
          method: "POST",
          headers: { "content-type": "application/json" },
        }),
      )).json();
      const html = await (await app(new Request(`http://127.0.0.1:9000/api/traces/${bad.traceId}?format=html`))).text();
      assertEquals(info.jaeger.exporting, true);
      assertEquals(info.jaeger.linked, jaegerUiAnswers);
      if (jaegerUiAnswers) {
        assertEquals(info.prometheus.leakSearch, jaegerSearchUrl("leak-lab", LEAK_SEARCH_TAGS, ui));
        assertStringIncludes(html, `href="${ui}/trace/${bad.traceId}"`);
      } else {
        assertEquals(info.prometheus.leakSearch, null, "no search link into a UI that is not there");
        assertNotMatch(html, /href=/, "the waterfall's heading links nowhere");
      }
      pool.reset();
    }
  } finally {
    await pool.end();
    await telemetry.shutdown();
  }
});

/**
 * Any web page open in the learner's browser can send requests to
 * http://127.0.0.1:9000 (`<img src>` needs no permission), and each answered
 * request used to be a span in the 500-span store that backs /api/traces:
 * 600 images from another origin pushed a leak's trace out. Requests that
 * change nothing (refused, unknown, or reads) now only push each other out.
 */
import { assert, assertEquals } from "@std/assert";
import { SpanKind } from "@opentelemetry/api";
import { BasicTracerProvider } from "@opentelemetry/sdk-trace-base";
import { FaultSchedule } from "../lib/demo/fault_schedule.ts";
import { TracedPool } from "../lib/pool.ts";
import { RecentSpans, setupTelemetry } from "../lib/telemetry.ts";
import { createApp } from "../lib/service/app.ts";
import { tracedHandlers } from "../lib/service/demo_pool.ts";
import { checkpointDatabaseUrl, uniquePoolName } from "../lib/workshop/checkpoint_database.ts";
import { CHROMIUM_INSTALL, hasChromium, launchChromium } from "./support/chromium.ts";
import { requirement } from "./support/requirement.ts";

// The service's own store: setupTelemetry's default of 500 spans.
const telemetry = await setupTelemetry({ otlpEndpoint: false, log: () => {} });
const SERVICE = "http://127.0.0.1:9000";
/** What Chromium sends with `<img src="http://127.0.0.1:9000/…">` on another site's page. */
const IMAGE_FROM_ANOTHER_SITE = {
  "sec-fetch-site": "cross-site",
  "sec-fetch-mode": "no-cors",
  "sec-fetch-dest": "image",
  accept: "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8",
  referer: "https://evil.example/",
};

Deno.test("600 requests of each refused, unknown or read-only kind leave a leak's trace in /api/traces", async () => {
  const pool = new TracedPool({
    connectionString: checkpointDatabaseUrl(),
    name: uniquePoolName("flood"),
    max: 3,
    acquireTimeoutMs: 300,
    log: () => {},
  });
  const faults = new FaultSchedule({ failEvery: 1 }); // every /api/bad leaks
  const app = createApp({ pool, handlers: tracedHandlers(pool, faults), faults, spans: telemetry.spans });
  const send = async (url: string, init: RequestInit = {}) => {
    const response = await app(new Request(url, init));
    await response.body?.cancel();
    return response.status;
  };
  const leak = await app(
    new Request(`${SERVICE}/api/bad`, { method: "POST", headers: { "content-type": "application/json" } }),
  );
  const { traceId } = await leak.json();
  assertEquals(leak.status, 500);

  let n = 0;
  const floods: [string, () => Promise<number>, number][] = [
    [
      "unknown paths (<img src=/xN.png>)",
      () => send(`${SERVICE}/x${n++}.png`, { headers: IMAGE_FROM_ANOTHER_SITE }),
      404,
    ],
    ["a foreign Host (DNS rebinding)", () => send(`http://evil.example:9000/x${n++}.png`), 403],
    ["cross-site POSTs", () => send(`${SERVICE}/api/reset`, { method: "POST", body: `${n++}` }), 415],
    ["unknown trace ids", () => send(`${SERVICE}/api/traces/${(n++).toString(16).padStart(32, "0")}`), 404],
    ["bad query parameters", () => send(`${SERVICE}/api/traces?limit=x${n++}`), 400],
    [
      "reads (<img src=/api/pool?N>)",
      () => send(`${SERVICE}/api/pool?${n++}`, { headers: IMAGE_FROM_ANOTHER_SITE }),
      200,
    ],
    ["page loads (<iframe src=/?N>)", () => send(`${SERVICE}/?${n++}`), 200],
  ];
  for (const [what, sendOne, status] of floods) {
    for (let i = 0; i < 600; i++) assertEquals(await sendOne(), status, what);
    const view = await app(new Request(`${SERVICE}/api/traces/${traceId}`));
    assertEquals(view.status, 200, `after 600 ${what}, the leak's trace is still in memory`);
    const { spans } = await view.json();
    assert(spans.some((s: { events: { name: string }[] }) => s.events.some((e) => e.name === "connection_leaked")));
  }
  const { traces } = await (await app(new Request(`${SERVICE}/api/traces`))).json();
  assert(traces.some((t: { traceId: string }) => t.traceId === traceId), "and in the list of recent traces");
  assertEquals(pool.stats().leaked, 1, "no flood reached the pool");
  await pool.end();
});

Deno.test("RecentSpans keeps routine request spans in a small ring of their own; everything else in the main one", () => {
  const recent = new RecentSpans(5, { routineCapacity: 2 });
  const provider = new BasicTracerProvider({ spanProcessors: [recent] });
  const tracer = provider.getTracer("flood-test");
  const serverSpan = (name: string, method: string, status: number, leaked = false) => {
    const span = tracer.startSpan(name, {
      kind: SpanKind.SERVER,
      attributes: { "http.request.method": method, "http.response.status_code": status },
    });
    if (leaked) span.addEvent("connection_leaked");
    span.end();
    return span.spanContext().traceId;
  };
  const kept = [
    serverSpan("POST /api/bad", "POST", 500),
    serverSpan("POST /api/good", "POST", 200),
    serverSpan("GET /api/traces", "GET", 500), // a bug of ours: worth keeping
    serverSpan("GET", "GET", 404, true), // anything with an event is worth keeping
  ];
  tracer.startSpan("notebook cell").end(); // not a server span: kept
  for (let i = 0; i < 50; i++) {
    serverSpan("GET /api/pool", "GET", 200);
    serverSpan("GET", "GET", 404);
    serverSpan("POST /api/reset", "POST", 415);
    serverSpan("HEAD /", "HEAD", 200);
  }
  const held = recent.spans();
  assertEquals(held.length, 5 + 2);
  for (const id of kept) assertEquals(recent.trace(id).length, 1, `trace ${id} kept`);
  assertEquals(held.slice(-2).map((s) => s.name), ["POST /api/reset", "HEAD /"], "the newest routine spans, last");
  const order = [
    "POST /api/bad",
    "POST /api/good",
    "GET /api/traces",
    "GET",
    "notebook cell",
    "POST /api/reset",
    "HEAD /",
  ];
  assertEquals(held.map((s) => s.name), order, "in the order they ended, both rings merged");
  recent.clear();
  assertEquals(recent.spans(), []);
});

Deno.test({
  name: "in Chromium, a page on another site loading 1,200 images from the service leaves a leak's trace in memory",
  ...requirement("Chromium", hasChromium(), CHROMIUM_INSTALL),
  fn: async () => {
    const pool = new TracedPool({
      connectionString: checkpointDatabaseUrl(),
      name: uniquePoolName("flood-browser"),
      max: 3,
      acquireTimeoutMs: 300,
      log: () => {},
    });
    const faults = new FaultSchedule({ failEvery: 1 });
    const app = createApp({ pool, handlers: tracedHandlers(pool, faults), faults, spans: telemetry.spans });
    const service = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, app);
    const target = `http://127.0.0.1:${service.addr.port}`;
    // The other site: http://localhost:<port> is another site than http://127.0.0.1:<port> to the browser.
    const evil = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, () =>
      new Response(
        `<!doctype html><title>another site</title><body><script>
          let left = 1200;
          const done = () => { if (--left === 0) document.body.dataset.done = "true"; };
          for (let i = 0; i < 600; i++) {
            for (const src of ["${target}/x" + i + ".png", "${target}/api/pool?" + i]) {
              const img = new Image();
              img.onload = img.onerror = done;
              img.src = src;
            }
          }
        </script>`,
        { headers: { "content-type": "text/html" } },
      ));
    const browser = await launchChromium();
    try {
      const leak = await app(
        new Request(`${target}/api/bad`, { method: "POST", headers: { "content-type": "application/json" } }),
      );
      const { traceId } = await leak.json();
      await browser.page.goto(`http://localhost:${evil.addr.port}/`);
      await browser.page.waitForSelector("body[data-done=true]", { state: "attached", timeout: 60_000 });
      const view = await fetch(`${target}/api/traces/${traceId}`);
      assertEquals(view.status, 200, "the leak's trace is still in memory");
      const { spans } = await view.json();
      assert(spans.some((s: { events: { name: string }[] }) => s.events.some((e) => e.name === "connection_leaked")));
      assertEquals(pool.stats().leaked, 1);
    } finally {
      await browser.close();
      await evil.shutdown();
      await service.shutdown();
      await pool.end();
    }
  },
});

/**
 * `deno task bench:metrics`: what Prometheus metrics cost.
 *
 * - "scrape": one `GET /metrics` with 10 pools, each with filled wait/use
 *   histograms and a leaked connection: serialized in process, through the
 *   app's handler, and over HTTP on 127.0.0.1. Issue #12's target: < 50 ms.
 * - "lease": acquire + `SELECT 1` + release at c=16, traced, with the SDK's
 *   meter (what the service runs) and with a no-op meter. The gauges are read
 *   only when scraped, so the difference is the two histogram recordings per
 *   lease that were there before /metrics existed.
 */
import { createNoopMeter } from "@opentelemetry/api";
import { FaultSchedule } from "../lib/demo/fault_schedule.ts";
import { TracedPool } from "../lib/pool.ts";
import { setupTelemetry } from "../lib/telemetry.ts";
import { createApp } from "../lib/service/app.ts";
import { tracedHandlers } from "../lib/service/demo_pool.ts";

const url = Deno.env.get("DATABASE_URL");
if (!url) throw new Error("Run with `deno task bench:metrics` (it provides a Postgres), or set DATABASE_URL.");
const telemetry = await setupTelemetry({ otlpEndpoint: false, log: () => {} });
const quiet = { connectionString: url, max: 2, log: () => {} };

const pools = Array.from({ length: 10 }, (_, i) => new TracedPool({ ...quiet, name: `bench-scrape-${i}` }));
for (const pool of pools) {
  for (let i = 0; i < 50; i++) await pool.query("SELECT 1");
  await pool.scope("leaks", () => pool.acquire()); // one leaked connection, so every gauge has a value
}
const faults = new FaultSchedule({ failEvery: 0 });
const app = createApp({
  pool: pools[0],
  handlers: tracedHandlers(pools[0], faults),
  faults,
  spans: telemetry.spans,
  metrics: () => telemetry.prometheusMetrics(),
});
const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, app);
const metricsUrl = `http://127.0.0.1:${server.addr.port}/metrics`;
const scrapeBytes = (await telemetry.prometheusMetrics()).length;

Deno.bench(`scrape: telemetry.prometheusMetrics(), 10 pools (${Math.round(scrapeBytes / 1024)} KiB)`, {
  group: "scrape",
  baseline: true,
}, async () => {
  await telemetry.prometheusMetrics();
});

Deno.bench("scrape: GET /metrics through the app's handler, 10 pools", { group: "scrape" }, async () => {
  await (await app(new Request("http://127.0.0.1/metrics"))).text();
});

Deno.bench("scrape: GET /metrics over HTTP on 127.0.0.1, 10 pools", { group: "scrape" }, async () => {
  await (await fetch(metricsUrl)).text();
});

const withMeter = new TracedPool({ ...quiet, max: 5, name: "bench-lease-metrics" });
const noMeter = new TracedPool({ ...quiet, max: 5, name: "bench-lease-nometer", meter: createNoopMeter() });
const WORKERS = 16;
const OPS_PER_WORKER = 8;

function atConcurrency(pool: TracedPool) {
  const op = async () => {
    const lease = await pool.acquire();
    try {
      await lease.query("SELECT 1");
    } finally {
      lease.release();
    }
  };
  return async () => {
    await Promise.all(Array.from({ length: WORKERS }, async () => {
      for (let i = 0; i < OPS_PER_WORKER; i++) await op();
    }));
  };
}

Deno.bench("lease c=16: traced, no-op meter", { group: "lease", baseline: true }, atConcurrency(noMeter));
Deno.bench("lease c=16: traced, SDK meter (as served on /metrics)", { group: "lease" }, atConcurrency(withMeter));

globalThis.addEventListener("unload", () => {
  // deno bench has no afterAll; the process ends right after, so closing the sockets is all that is left.
  server.shutdown();
  for (const pool of [...pools, withMeter, noMeter]) pool.end();
});

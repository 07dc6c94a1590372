/**
 * A tiny service run with `OTEL_DENO=true` by telemetry_sampling_test.ts:
 * Deno.serve, setupTelemetry() and a TracedPool given its tracer and meter,
 * one request to itself, then a JSON line of what it saw.
 */
import { setupTelemetry } from "../../lib/telemetry.ts";
import { TracedPool } from "../../lib/pool.ts";

const logs: string[] = [];
const telemetry = await setupTelemetry({ log: (line) => logs.push(line) });
const pool = new TracedPool({
  connectionString: Deno.env.get("DATABASE_URL")!,
  name: "deno-otel",
  tracer: telemetry.tracer,
  meter: telemetry.meter,
  log: () => {},
});
const server = Deno.serve(
  { hostname: "127.0.0.1", port: 0, onListen() {} },
  () =>
    pool.scope("handler", async (span) => {
      await pool.query("SELECT 1");
      return new Response(span.spanContext().traceId);
    }),
);
const traceId = await (await fetch(`http://127.0.0.1:${server.addr.port}/`)).text();
await server.shutdown();
await pool.end();
const inMemory = telemetry.spans.trace(traceId).length;
const metricPoints = (await telemetry.collectMetrics()).length;
await telemetry.flush();
console.log(JSON.stringify({ traceId, inMemory, metricPoints, logs, exportingTo: telemetry.exportingTo }));
await telemetry.shutdown();

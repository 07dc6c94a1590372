import { TracedPool } from "./lib/pool.ts";
import { setupTelemetry } from "./lib/telemetry.ts";
import { createNoopMeter, ProxyTracerProvider } from "@opentelemetry/api";
import pg from "pg";
const url = Deno.env.get("DATABASE_URL")!;
await setupTelemetry({ otlpEndpoint: false, log: () => {} });
const raw = new pg.Pool({ connectionString: url, max: 5, connectionTimeoutMillis: 2000 });
const off = new TracedPool({ connectionString: url, max: 5, log: () => {}, tracer: new ProxyTracerProvider().getTracer("off"), meter: createNoopMeter() });
const on = new TracedPool({ connectionString: url, max: 5, log: () => {} });
const onNoMetrics = new TracedPool({ connectionString: url, max: 5, log: () => {}, meter: createNoopMeter() });
const metricsOnly = new TracedPool({ connectionString: url, max: 5, log: () => {}, tracer: new ProxyTracerProvider().getTracer("off") });
const rawOp = async () => { const c = await raw.connect(); try { await c.query("SELECT 1"); } finally { c.release(); } };
const leaseOp = (pool: TracedPool) => async () => { const l = await pool.acquire(); try { await l.query("SELECT 1"); } finally { l.release(); } };
const ops: Record<string, () => Promise<void>> = { raw: rawOp, off: leaseOp(off), on: leaseOp(on), onNoMetrics: leaseOp(onNoMetrics), metricsOnly: leaseOp(metricsOnly) };
async function run(op: () => Promise<void>, c: number, n: number) {
  const t0 = performance.now();
  await Promise.all(Array.from({ length: c }, async () => { for (let i = 0; i < n / c; i++) await op(); }));
  return n / ((performance.now() - t0) / 1000);
}
for (const c of [1, 16]) {
  const res: Record<string, number[]> = { raw: [], off: [], on: [], onNoMetrics: [], metricsOnly: [] };
  for (let round = 0; round < 7; round++) for (const k of Object.keys(ops)) res[k].push(await run(ops[k], c, c === 1 ? 1000 : 4000));
  const med = (a: number[]) => a.sort((x, y) => x - y)[Math.floor(a.length / 2)];
  console.log(`c=${c}`, Object.fromEntries(Object.entries(res).map(([k, v]) => [k, Math.round(med(v))])), "off/raw", (med(res.off) / med(res.raw)).toFixed(3), "on/raw", (med(res.on) / med(res.raw)).toFixed(3));
}
await Promise.all([raw.end(), off.end(), on.end(), onNoMetrics.end(), metricsOnly.end()]);

import { TracedPool } from "./lib/pool.ts";
import { ensureContextManager } from "./lib/telemetry.ts";
import { RecentSpans } from "./lib/recent_spans.ts";
import { FastIdGenerator } from "./lib/fast_ids.ts";
import { BasicTracerProvider } from "@opentelemetry/sdk-trace-base";
import { createNoopMeter, ProxyTracerProvider } from "@opentelemetry/api";
import pg from "pg";
ensureContextManager();
const url = Deno.env.get("DATABASE_URL")!;
const raw = new pg.Pool({ connectionString: url, max: 5, connectionTimeoutMillis: 2000 });
const mk = (tracer: any) => new TracedPool({ connectionString: url, max: 5, log: () => {}, tracer, meter: createNoopMeter() });
const prov = (n: number) => new BasicTracerProvider({ spanProcessors: [new RecentSpans(n)], idGenerator: new FastIdGenerator() }).getTracer("x");
const pools: Record<string, TracedPool> = {
  off: mk(new ProxyTracerProvider().getTracer("off")),
  ring1k: mk(prov(1000)),
  ring10k: mk(prov(10000)),
};
const rawOp = async () => { const c = await raw.connect(); try { await c.query("SELECT 1"); } finally { c.release(); } };
const leaseOp = (pool: TracedPool) => async () => { const l = await pool.acquire(); try { await l.query("SELECT 1"); } finally { l.release(); } };
const ops: Record<string, () => Promise<void>> = { raw: rawOp, ...Object.fromEntries(Object.entries(pools).map(([k, p]) => [k, leaseOp(p)])) };
async function run(op: () => Promise<void>, c: number, n: number) {
  const t0 = performance.now();
  await Promise.all(Array.from({ length: c }, async () => { for (let i = 0; i < n / c; i++) await op(); }));
  return n / ((performance.now() - t0) / 1000);
}
for (const c of [1, 16]) {
  const res: Record<string, number[]> = Object.fromEntries(Object.keys(ops).map((k) => [k, []]));
  for (let round = 0; round < 9; round++) for (const k of Object.keys(ops)) res[k].push(await run(ops[k], c, c === 1 ? 1000 : 4000));
  const med = (a: number[]) => a.sort((x, y) => x - y)[Math.floor(a.length / 2)];
  console.log(`c=${c} ` + Object.entries(res).map(([k, v]) => `${k}=${(med(v) / med(res.raw)).toFixed(3)}`).join(" "), "raw", Math.round(med(res.raw)));
}
await Promise.all([raw.end(), ...Object.values(pools).map((p) => p.end())]);

/**
 * `deno task bench`: what TracedPool costs over a raw node-postgres Pool.
 * Each iteration is acquire + `SELECT 1` + release, at concurrency 1 and 16,
 * against the same real Postgres, in one run. Targets (issue #2): traced
 * ≥ 0.80× raw at c=16 and ≥ 0.90× at c=1; tracing off ≥ 0.97×.
 *
 * "traced" is what setupTelemetry() installs (in-memory spans, metrics); OTLP
 * export is left out because its cost lands on a timer, not the request.
 * Read the ratios from deno bench's "summary" lines.
 */
import { createNoopMeter, ProxyTracerProvider } from "@opentelemetry/api";
import pg from "pg";
import { TracedPool } from "../lib/pool.ts";
import { setupTelemetry } from "../lib/telemetry.ts";

const url = Deno.env.get("DATABASE_URL");
if (!url) throw new Error("Run with `deno task bench` (it provides a Postgres), or set DATABASE_URL.");
const telemetry = await setupTelemetry({ otlpEndpoint: false, log: () => {} });

const MAX = 5;
const OPS_PER_WORKER = 8;
const raw = new pg.Pool({ connectionString: url, max: MAX });
const traced = new TracedPool({ connectionString: url, max: MAX, name: "bench-traced", log: () => {} });
const untraced = new TracedPool({
  connectionString: url,
  max: MAX,
  name: "bench-off",
  tracer: new ProxyTracerProvider().getTracer("off"), // no delegate: the API's no-op tracer
  meter: createNoopMeter(),
  log: () => {},
});

const rawOp = async () => {
  const client = await raw.connect();
  try {
    await client.query("SELECT 1");
  } finally {
    client.release();
  }
};
const leaseOp = (pool: TracedPool) => async () => {
  const lease = await pool.acquire();
  try {
    await lease.query("SELECT 1");
  } finally {
    lease.release();
  }
};
const tracedOp = leaseOp(traced);
const untracedOp = leaseOp(untraced);

/** 16 workers, each doing OPS_PER_WORKER operations back to back. */
const concurrently = (op: () => Promise<void>) => async () => {
  // An async function, not one returning a promise: deno bench awaits only the former.
  await Promise.all(Array.from({ length: 16 }, async () => {
    for (let i = 0; i < OPS_PER_WORKER; i++) await op();
  }));
};

// Warm every pool to MAX open connections so connection setup is not measured.
await Promise.all([rawOp, tracedOp, untracedOp].map((op) => concurrently(op)()));
telemetry.spans.clear();

Deno.bench({ name: "raw pg.Pool", group: "c=1", baseline: true, fn: rawOp });
Deno.bench({ name: "TracedPool, tracing off", group: "c=1", fn: untracedOp });
Deno.bench({ name: "TracedPool, traced", group: "c=1", fn: tracedOp });

Deno.bench({ name: "raw pg.Pool", group: "c=16", baseline: true, fn: concurrently(rawOp) });
Deno.bench({ name: "TracedPool, tracing off", group: "c=16", fn: concurrently(untracedOp) });
Deno.bench({ name: "TracedPool, traced", group: "c=16", fn: concurrently(tracedOp) });

globalThis.addEventListener("unload", () => {
  // deno bench keeps no handle on these; closing is best-effort at exit.
  raw.end();
  traced.end();
  untraced.end();
});

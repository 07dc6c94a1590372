/**
 * `deno task bench`: what TracedPool costs over a raw node-postgres Pool.
 *
 * Each operation is acquire + `SELECT 1` + release against the same real
 * Postgres, at concurrency 1 and 16 (16 workers × 8 operations per
 * iteration), all in one run; read the ratios from deno bench's summaries.
 * Targets from issue #2: traced ≥ 0.80× raw at c=16 and ≥ 0.90× at c=1,
 * tracing off ≥ 0.97×. Every pool has the same max (5) and acquire timeout.
 *
 * - "traced": what `setupTelemetry()` installs (in-memory span ring, metrics).
 *   OTLP export is left out: its batches are serialised on a timer, not on
 *   the request path.
 * - "tracing off": no OpenTelemetry SDK (the API's no-op tracer and meter);
 *   stats, history and leak detection still run. Shown with and without
 *   `captureAcquireSites` (one `new Error()` per acquire).
 * - "naive tracing": the reference point the issue measured — a span per step
 *   with `startActiveSpan`, `SimpleSpanProcessor`, an unbounded in-memory
 *   exporter — wrapped around the raw pool.
 */
import { createNoopMeter, ProxyTracerProvider } from "@opentelemetry/api";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import pg from "pg";
import { TracedPool } from "../lib/pool.ts";
import { setupTelemetry } from "../lib/telemetry.ts";

const url = Deno.env.get("DATABASE_URL");
if (!url) throw new Error("Run with `deno task bench` (it provides a Postgres), or set DATABASE_URL.");
const telemetry = await setupTelemetry({ otlpEndpoint: false, log: () => {} });

const MAX = 5;
const ACQUIRE_TIMEOUT_MS = 2_000;
const OPS_PER_WORKER = 8;
const rawPool = () => new pg.Pool({ connectionString: url, max: MAX, connectionTimeoutMillis: ACQUIRE_TIMEOUT_MS });
const quiet = { connectionString: url, max: MAX, acquireTimeoutMs: ACQUIRE_TIMEOUT_MS, log: () => {} };
const noTracing = { tracer: new ProxyTracerProvider().getTracer("off"), meter: createNoopMeter() };

const raw = rawPool();
const traced = new TracedPool({ ...quiet, name: "bench-traced" });
const untraced = new TracedPool({ ...quiet, name: "bench-off", ...noTracing });
const bare = new TracedPool({ ...quiet, name: "bench-bare", ...noTracing, captureAcquireSites: false });
const naivePool = rawPool();
const naiveTracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(new InMemorySpanExporter())] })
  .getTracer("naive");

async function rawOp() {
  const client = await raw.connect();
  try {
    await client.query("SELECT 1");
  } finally {
    client.release();
  }
}

function leaseOp(pool: TracedPool) {
  return async () => {
    const lease = await pool.acquire();
    try {
      await lease.query("SELECT 1");
    } finally {
      lease.release();
    }
  };
}

function naiveOp() {
  return naiveTracer.startActiveSpan("get_connection", async (acquire) => {
    const client = await naivePool.connect();
    acquire.addEvent("connection_acquired", { active: naivePool.totalCount - naivePool.idleCount });
    acquire.end();
    try {
      await naiveTracer.startActiveSpan("database.query", async (query) => {
        query.setAttribute("db.query.text", "SELECT 1");
        try {
          await client.query("SELECT 1");
        } finally {
          query.end();
        }
      });
    } finally {
      naiveTracer.startActiveSpan("return_connection", (release) => {
        client.release();
        release.addEvent("connection_returned_safely", { idle: naivePool.idleCount });
        release.end();
      });
    }
  });
}

/** 16 workers, each doing OPS_PER_WORKER operations back to back. */
function concurrently(op: () => Promise<void>) {
  // An async function, not one returning a promise: deno bench awaits only the former.
  return async () => {
    await Promise.all(Array.from({ length: 16 }, async () => {
      for (let i = 0; i < OPS_PER_WORKER; i++) await op();
    }));
  };
}

const ops = {
  "raw pg.Pool": rawOp,
  "TracedPool, traced": leaseOp(traced),
  "TracedPool, tracing off": leaseOp(untraced),
  "TracedPool, tracing off, captureAcquireSites: false": leaseOp(bare),
  "naive tracing (startActiveSpan + SimpleSpanProcessor)": naiveOp,
};
// Open MAX connections in every pool first, so connection setup is not measured.
for (const op of Object.values(ops)) await concurrently(op)();
telemetry.spans.clear();

for (const [name, op] of Object.entries(ops)) {
  const baseline = name === "raw pg.Pool";
  Deno.bench({ name, group: "c=1", baseline, fn: async () => await op() });
  Deno.bench({ name, group: "c=16", baseline, fn: concurrently(op) });
}

/**
 * What the demo service's tracing costs on its fixed endpoint: `POST /api/good`
 * at concurrency 16 (16 clients, 8 requests each per iteration = 128
 * requests), against the same real Postgres, in one run:
 *
 * - baseline: the same app over a raw node-postgres `Pool`, no spans at all;
 * - traced: the app as `deno task start` runs it — TracedPool, an HTTP server
 *   span per request, spans kept in memory (OTLP export is off: its cost lands
 *   on a timer, not on the request).
 *
 * Two groups: the handler called with `new Request(...)` (the app's own cost),
 * and over real sockets on 127.0.0.1 (what a client sees). No query fails
 * (FAIL_EVERY=0): a failure's 5 ms statement timeout would hide the
 * difference. Requests/s = 128 / (time per iteration); read the ratio from
 * deno bench's "summary" lines.
 */
import { type Span, trace } from "@opentelemetry/api";
import pg from "pg";
import { FaultSchedule, readSensors } from "../lib/demo/fault_schedule.ts";
import { TracedPool } from "../lib/pool.ts";
import { RecentSpans, setupTelemetry } from "../lib/telemetry.ts";
import { type App, createApp } from "../lib/service/app.ts";
import { type DemoPool, tracedHandlers } from "../lib/service/demo_pool.ts";

const url = Deno.env.get("DATABASE_URL");
if (!url) throw new Error("Run with `deno task bench:service` (it provides a Postgres), or set DATABASE_URL.");
const telemetry = await setupTelemetry({ otlpEndpoint: false, log: () => {} });

const MAX = 5;
const CLIENTS = 16;
const REQUESTS_PER_CLIENT = 8;
const noFaults = () => new FaultSchedule({ failEvery: 0 });
/** The service takes POSTs as JSON only (lib/service/browser_guard.ts). */
const JSON_POST = { "content-type": "application/json" };

/** A raw pg.Pool dressed as the app's DemoPool: no spans, no leak checks. */
class RawDemoPool implements DemoPool {
  readonly name = "raw";
  readonly acquireTimeoutMs = 2_000;
  readonly #untraced = trace.wrapSpanContext({ traceId: "0".repeat(32), spanId: "0".repeat(16), traceFlags: 0 });
  constructor(readonly pool: pg.Pool) {}
  stats() {
    const { totalCount: total, idleCount: idle, waitingCount: waiting } = this.pool;
    const active = total - idle;
    return { max: MAX, total, idle, active, available: MAX - active, leaked: 0, waiting };
  }
  reset() {
    return 0;
  }
  async scope<T>(_name: string, fn: (span: Span) => T | Promise<T>): Promise<T> {
    return await fn(this.#untraced);
  }
}

const raw = new pg.Pool({ connectionString: url, max: MAX });
const rawPool = new RawDemoPool(raw);
const rawFaults = noFaults();
const rawApp = createApp({
  pool: rawPool,
  faults: rawFaults,
  spans: new RecentSpans(1),
  handlers: {
    bad: () => Promise.reject(new Error("not benchmarked")),
    good: async () => {
      const client = await raw.connect();
      try {
        return await readSensors(client, rawFaults);
      } finally {
        client.release();
      }
    },
  },
});

const traced = new TracedPool({ connectionString: url, max: MAX, name: "bench-service", log: () => {} });
const tracedFaults = noFaults();
const tracedApp = createApp({
  pool: traced,
  handlers: tracedHandlers(traced, tracedFaults),
  faults: tracedFaults,
  spans: telemetry.spans,
});

const direct = (app: App) => async () => {
  const response = await app(new Request("http://127.0.0.1:9000/api/good", { method: "POST", headers: JSON_POST }));
  if (response.status !== 200) throw new Error(`POST /api/good answered ${response.status}`);
  await response.arrayBuffer();
};

const serve = (app: App) => Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, app);
const servers = [serve(rawApp), serve(tracedApp)];
const overSocket = (server: Deno.HttpServer<Deno.NetAddr>) => async () => {
  const response = await fetch(`http://127.0.0.1:${server.addr.port}/api/good`, { method: "POST", headers: JSON_POST });
  if (response.status !== 200) throw new Error(`POST /api/good answered ${response.status}`);
  await response.arrayBuffer();
};

/** CLIENTS clients, each sending REQUESTS_PER_CLIENT requests back to back. */
const concurrently = (request: () => Promise<void>) => async () => {
  // An async function, not one returning a promise: deno bench awaits only the former.
  await Promise.all(Array.from({ length: CLIENTS }, async () => {
    for (let i = 0; i < REQUESTS_PER_CLIENT; i++) await request();
  }));
};

const cases = {
  rawDirect: concurrently(direct(rawApp)),
  tracedDirect: concurrently(direct(tracedApp)),
  rawSocket: concurrently(overSocket(servers[0])),
  tracedSocket: concurrently(overSocket(servers[1])),
};
// Warm both pools to MAX connections and the JIT, so neither is measured cold.
for (const run of Object.values(cases)) await run();
telemetry.spans.clear();

Deno.bench({ name: "raw pg.Pool, no tracing", group: "handler c=16", baseline: true, fn: cases.rawDirect });
Deno.bench({ name: "TracedPool + HTTP spans", group: "handler c=16", fn: cases.tracedDirect });
Deno.bench({ name: "raw pg.Pool, no tracing", group: "http c=16", baseline: true, fn: cases.rawSocket });
Deno.bench({ name: "TracedPool + HTTP spans", group: "http c=16", fn: cases.tracedSocket });

globalThis.addEventListener("unload", () => {
  // deno bench keeps no handle on these; closing is best-effort at exit.
  for (const server of servers) server.shutdown();
  raw.end();
  traced.end();
});

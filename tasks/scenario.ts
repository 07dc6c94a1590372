/**
 * `deno task scenario`: the leak, in the terminal. Twelve requests through the
 * leaking handler with every 2nd query failing (the pool of 5 runs dry at the 11th), against a real Postgres, with
 * the pool after each one and a link to its trace.
 *
 * Environment: DATABASE_URL (else embedded Postgres), FAIL_EVERY / FAIL_RATE /
 * FAIL_SEED, REQUESTS (default 12), HANDLER=bad|good (default bad).
 */
import { FaultSchedule } from "../lib/demo/fault_schedule.ts";
import { badQueryWithLeak, goodQueryNoLeak } from "../lib/demo/query_handlers.ts";
import { runProgression } from "../lib/demo/request_series.ts";
import { LEAK_SEARCH_TAGS, POOL_TRACE_HINTS, TracedPool } from "../lib/pool.ts";
import {
  jaegerSearchUrl,
  jaegerUiAnswers,
  setupTelemetry,
  traceUrl,
  viewTrace,
  waterfallText,
} from "../lib/telemetry.ts";
import { ConfigError, envInteger } from "../lib/util/env.ts";
import { openDatabaseOrExit } from "./open_database_or_exit.ts";

let faults: FaultSchedule;
let requests: number;
try {
  faults = FaultSchedule.fromEnv();
  requests = envInteger(Deno.env, "REQUESTS", { fallback: 12, min: 1, max: 1_000, hint: "requests to send" });
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  Deno.exit(2);
}
const handlerName = Deno.env.get("HANDLER") ?? "bad";
if (handlerName !== "bad" && handlerName !== "good") {
  console.error(`HANDLER must be "bad" or "good": current value is "${handlerName}"`);
  Deno.exit(2);
}
const telemetry = await setupTelemetry();

const db = await openDatabaseOrExit();
// The pool's own leak warnings would interleave with the table: the table is the point here.
const pool = new TracedPool({
  connectionString: db.url,
  acquireTimeoutMs: 1_000,
  captureAcquireSites: "always", // every leak names its line (the library's default captures them adaptively)
  log: () => {},
});
const handler = handlerName === "bad" ? badQueryWithLeak : goodQueryNoLeak;

// Links only into a Jaeger UI that answers: something on the OTLP port (a Collector, say) is not one.
const exported = telemetry.exportingTo !== undefined && await jaegerUiAnswers();
console.log(`Database: ${db.displayUrl} (${db.source})`);
console.log(
  `Traces:   ${
    exported
      ? `exported to ${telemetry.exportingTo}`
      : telemetry.exportingTo
      ? `exported to ${telemetry.exportingTo}, but no Jaeger UI answers (JAEGER_UI_URL, else localhost:16686): no links`
      : "in memory only (no Jaeger found)"
  }`,
);
console.log(`Faults:   ${faults.description}; pool max ${pool.max}; handler ${handler.name}\n`);
// Without Jaeger a link would open nothing: the trace id is shown instead, and the leaking traces are drawn below.
console.log(`request  active  available  leaked  outcome          ${exported ? "trace (Jaeger)" : "trace id"}`);
try {
  const rows = await runProgression({
    pool,
    requests,
    handler: () => handler(pool, faults),
    onRow: (row) => {
      const mark = row.outcome === "ok" ? "✓" : row.outcome === "query failed" ? "⚠" : "❌";
      console.log(
        `${String(row.request).padStart(7)}  ${String(row.active).padStart(6)}  ${String(row.available).padStart(9)}  ${
          String(row.leaked).padStart(6)
        }  ${`${mark} ${row.outcome}`.padEnd(15)}  ${exported ? traceUrl(row.traceId) : row.traceId}`,
      );
    },
  });
  const leaks = pool.leaks();
  if (leaks.length > 0) {
    console.log(
      `\n${leaks.length} connection(s) leaked, acquired at: ${[...new Set(leaks.map((l) => l.site))].join(", ")}`,
    );
    const leakingTraces = new Set(leaks.map((leak) => leak.traceId));
    const request = (traceId: string) => rows.find((row) => row.traceId === traceId)?.request;
    console.log(`\nThe trace of each leaking request (no return_connection after its failed query):`);
    for (const traceId of leakingTraces) {
      console.log(`\nrequest ${request(traceId)}, trace ${traceId}`);
      console.log(waterfallText(viewTrace(telemetry.spans.trace(traceId)), POOL_TRACE_HINTS));
    }
  }
  console.log(
    exported
      ? `\nSearch Jaeger for every leaking request: ${jaegerSearchUrl(telemetry.serviceName, LEAK_SEARCH_TAGS)}`
      : "\nTo see these traces in Jaeger's UI: `docker compose up -d jaeger`, then run this again.",
  );
} finally {
  await pool.end();
  await telemetry.shutdown();
  await db.stop();
}

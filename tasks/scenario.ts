/**
 * `deno task scenario`: the leak, in the terminal. Twelve requests through the
 * leaking handler with every 2nd query failing (the pool of 5 runs dry at the 11th), against a real Postgres, with
 * the pool after each one and a link to its trace.
 *
 * Environment: DATABASE_URL (else embedded Postgres), FAIL_EVERY / FAIL_RATE /
 * FAIL_SEED, REQUESTS (default 12), HANDLER=bad|good (default bad).
 */
import { openDatabaseOrExit } from "./cli.ts";
import { FaultSchedule } from "../lib/faults.ts";
import { badQueryWithLeak, goodQueryNoLeak } from "../lib/handlers.ts";
import { TracedPool } from "../lib/pool.ts";
import { runProgression } from "../lib/progression.ts";
import { setupTelemetry, traceUrl } from "../lib/telemetry.ts";

const telemetry = await setupTelemetry();
const faults = FaultSchedule.fromEnv();
const requests = Number(Deno.env.get("REQUESTS") ?? 12);
const handlerName = Deno.env.get("HANDLER") ?? "bad";
if (!Number.isInteger(requests) || requests < 1 || requests > 1000) {
  console.error(`REQUESTS must be a whole number from 1 to 1000: current value is "${Deno.env.get("REQUESTS")}"`);
  Deno.exit(2);
}
if (handlerName !== "bad" && handlerName !== "good") {
  console.error(`HANDLER must be "bad" or "good": current value is "${handlerName}"`);
  Deno.exit(2);
}

const db = await openDatabaseOrExit();
// The pool's own leak warnings would interleave with the table: the table is the point here.
const pool = new TracedPool({ connectionString: db.url, acquireTimeoutMs: 1_000, log: () => {} });
const handler = handlerName === "bad" ? badQueryWithLeak : goodQueryNoLeak;

console.log(`Database: ${db.displayUrl} (${db.source})`);
console.log(
  `Traces:   ${telemetry.exportingTo ? `exported to ${telemetry.exportingTo}` : "in memory only (no Jaeger found)"}`,
);
console.log(`Faults:   ${faults.description}; pool max ${pool.max}; handler ${handler.name}\n`);
console.log("request  active  available  leaked  outcome          trace");
try {
  await runProgression({
    pool,
    requests,
    handler: () => handler(pool, faults),
    onRow: (row) => {
      const mark = row.outcome === "ok" ? "✓" : row.outcome === "query failed" ? "⚠" : "❌";
      console.log(
        `${String(row.request).padStart(7)}  ${String(row.active).padStart(6)}  ${String(row.available).padStart(9)}  ${
          String(row.leaked).padStart(6)
        }  ${`${mark} ${row.outcome}`.padEnd(15)}  ${traceUrl(row.traceId)}`,
      );
    },
  });
  const leaks = pool.leaks();
  if (leaks.length > 0) {
    console.log(
      `\n${leaks.length} connection(s) leaked, acquired at: ${[...new Set(leaks.map((l) => l.site))].join(", ")}`,
    );
  }
} finally {
  await pool.end();
  await telemetry.shutdown();
  await db.stop();
}

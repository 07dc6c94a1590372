/**
 * Checkpoint of step 3: `listSensors()` returns its connection on every path.
 * Judged by behaviour: the rows against Postgres, the scheduled failures with
 * their real SQLSTATE, the pool's counters, every trace, and pg_stat_activity.
 */
import { sqlstate } from "../../lib/database.ts";
import { FaultSchedule, SENSOR_QUERY } from "../../lib/demo/fault_schedule.ts";
import { runRequests } from "../../lib/demo/request_series.ts";
import { PoolExhaustedError } from "../../lib/pool.ts";
import { type Checkpoint, checkpoint } from "../../lib/workshop/checkpoint.ts";
import { describeError, leaseBalance, listOf, traceOf } from "../../lib/workshop/checkpoint_checks.ts";
import { adminQuery, backendsOf, checkpointPool } from "../../lib/workshop/checkpoint_database.ts";
import { recordingTracer } from "../../lib/workshop/recording_tracer.ts";
import { listSensors } from "./list_sensors.ts";

const step: Checkpoint = checkpoint({
  step: "03-fix-with-finally",
  edit: "list_sensors.ts",
  hint: new URL("./hint.md", import.meta.url),
});
const REQUESTS = 20;
const FAULTS = { failEvery: 3 };

Deno.test(step.test("listSensors() returns its connection on every path, over 20 requests", async () => {
  const { tracer, exporter } = recordingTracer();
  const pool = checkpointPool("step03", { max: 5, tracer });
  const faults = new FaultSchedule(FAULTS);
  const twin = new FaultSchedule(FAULTS);
  const scheduled = Array.from({ length: REQUESTS }, (_, i) => (twin.next() ? i + 1 : 0)).filter(Boolean);
  const databaseRows = JSON.stringify(await adminQuery(SENSOR_QUERY));

  try {
    const outcomes = await runRequests({ tracer, root: true, count: REQUESTS, send: () => listSensors(pool, faults) });
    const spans = exporter.getFinishedSpans();
    const stats = pool.stats();
    const exhausted = outcomes.filter((o) => o.error instanceof PoolExhaustedError).map((o) => o.request);
    const balance = (traceId: string) => leaseBalance(spans, traceId);
    const summary = `After ${REQUESTS} requests (pool max 5, every 3rd query failing) ${stats.active} connection(s) ` +
      `were out, ${stats.leaked} detected as leaked, and requests ${listOf(exhausted)} found the pool exhausted.`;

    for (const outcome of outcomes.filter((o) => !o.ok && !(o.error instanceof PoolExhaustedError))) {
      const { kept } = balance(outcome.traceId);
      step.expect(
        kept.length === 0,
        () =>
          `Request ${outcome.request} failed (${describeError(outcome.error)}) and its connection never came back: ` +
          `its trace has get_connection → connection_acquired for lease #${kept[0]} but no return_connection → ` +
          `connection_returned_safely. ${summary}`,
      );
    }
    step.expect(exhausted.length === 0, () => `No request should find the pool exhausted. ${summary}`);

    for (const outcome of outcomes) {
      if (scheduled.includes(outcome.request)) {
        step.expect(
          !outcome.ok && sqlstate(outcome.error) === "57014",
          () =>
            `Request ${outcome.request} is scheduled to fail: its query must still fail and the request with it, ` +
            `with the real error (SQLSTATE 57014, statement timeout). It ${
              outcome.ok
                ? `returned ${JSON.stringify(outcome.value)?.slice(0, 60)}`
                : `failed with ${describeError(outcome.error)}`
            }. Fix the leak, not the error: let the error reach the caller.`,
        );
      } else {
        step.expect(
          outcome.ok,
          () =>
            `Request ${outcome.request} is not scheduled to fail, but it failed with ${describeError(outcome.error)}.`,
        );
        step.expect(
          JSON.stringify(outcome.value) === databaseRows,
          () =>
            `Request ${outcome.request} returned ${
              Array.isArray(outcome.value) ? `${outcome.value.length} row(s)` : JSON.stringify(outcome.value)
            } that differ from what Postgres has for "${SENSOR_QUERY}". listSensors() must return readSensors()' rows.`,
        );
      }
    }
    step.expect(stats.active === 0 && stats.leaked === 0, () => `Connections are still out. ${summary}`);

    for (const outcome of outcomes) {
      const trace = traceOf(spans, outcome.traceId);
      step.expect(
        trace.some((span) => span.name === "list_sensors"),
        () =>
          `Request ${outcome.request}'s trace has no list_sensors span: keep the pool.scope("list_sensors", …) ` +
          `around the handler, it is what lets the pool tell a leak.`,
      );
      const { acquired, kept } = balance(outcome.traceId);
      step.expect(
        acquired.length > 0 && kept.length === 0,
        () =>
          `Request ${outcome.request}'s trace should show its connection taken (connection_acquired) and given back ` +
          `(connection_returned_safely) within the request; it shows ${acquired.length} taken, ${kept.length} ` +
          `not given back.`,
      );
    }

    const backends = await backendsOf(pool.name);
    step.expect(
      backends.length === pool.stats().total && backends.every((b) => b.state === "idle"),
      () =>
        `pg_stat_activity should show the pool's ${pool.stats().total} open connection(s), all idle; it shows ` +
        `${backends.length}: ${backends.map((b) => b.state).join(", ") || "none"}.`,
    );
  } finally {
    await pool.end();
  }
}));

/**
 * Checkpoint of step 4: `sensorReport()` returns both connections on every
 * path — a failed query, and a replica too busy to hand out a connection.
 */
import { sqlstate } from "../../lib/database.ts";
import { FaultSchedule, SENSOR_QUERY } from "../../lib/demo/fault_schedule.ts";
import { type RequestOutcome, runRequests } from "../../lib/demo/request_series.ts";
import { PoolExhaustedError } from "../../lib/pool.ts";
import { type Checkpoint, checkpoint } from "../../lib/workshop/checkpoint.ts";
import { describeError, leaseBalance, listOf } from "../../lib/workshop/checkpoint_checks.ts";
import { adminQuery, backendsOf, checkpointPool } from "../../lib/workshop/checkpoint_database.ts";
import { recordingTracer } from "../../lib/workshop/recording_tracer.ts";
import { type SensorReport, sensorReport } from "./sensor_report.ts";

const step: Checkpoint = checkpoint({
  step: "04-fix-with-await-using",
  edit: "sensor_report.ts",
  hint: new URL("./hint.md", import.meta.url),
});

Deno.test(step.test("sensorReport() returns both connections, even when the replica is busy", async () => {
  // One tracer per pool: the requests' traces then hold only the primary's leases.
  const { tracer, exporter } = recordingTracer();
  const primary = checkpointPool("step04-primary", { max: 3, acquireTimeoutMs: 500, tracer });
  const replica = checkpointPool("step04-replica", { max: 1, acquireTimeoutMs: 200, tracer: recordingTracer().tracer });
  const latest = JSON.stringify(await adminQuery(SENSOR_QUERY));
  const [{ total }] = await adminQuery<{ total: number }>("SELECT count(*)::int AS total FROM sensors");

  const outstanding = (when: string) =>
    `${when}: the primary has ${primary.stats().active} connection(s) out, the replica ` +
    `${replica.stats().active}.`;
  const checkReport = (outcome: RequestOutcome<SensorReport>, phase: string) => {
    step.expect(
      outcome.ok,
      () =>
        `Request ${outcome.request} (${phase}) is not scheduled to fail, but it failed with ` +
        `${describeError(outcome.error)}.`,
    );
    step.expect(
      JSON.stringify(outcome.value?.readings) === latest && outcome.value?.total === total,
      () =>
        `Request ${outcome.request} (${phase}) answered readings that differ from Postgres' "${SENSOR_QUERY}" or a ` +
        `total of ${outcome.value?.total} instead of ${total}: the report must come from the two queries.`,
    );
  };
  const checkReturned = (outcomes: RequestOutcome<SensorReport>[], phase: string) => {
    for (const outcome of outcomes) {
      const { acquired, kept } = leaseBalance(exporter.getFinishedSpans(), outcome.traceId);
      step.expect(
        acquired.length === 1 && kept.length === 0,
        () =>
          `Request ${outcome.request} (${phase}, ${outcome.ok ? "succeeded" : describeError(outcome.error)}) took ` +
          `primary connection #${acquired[0]} and ${kept.length ? "never returned it" : "returned it"}: its trace ` +
          `should have one connection_acquired and its connection_returned_safely for the primary, it has ` +
          `${acquired.length} taken and ${kept.length} kept. ${outstanding("Now")}`,
      );
    }
  };

  try {
    // Phase 1: the replica is free; every 2nd query on the primary fails.
    const faults = new FaultSchedule({ failEvery: 2 });
    const free = await runRequests({
      tracer,
      root: true,
      count: 6,
      send: () => sensorReport(primary, replica, faults),
    });
    for (const outcome of free) {
      if (outcome.request % 2 === 0) {
        step.expect(
          !outcome.ok && sqlstate(outcome.error) === "57014",
          () =>
            `Request ${outcome.request} (replica free) is scheduled to fail with SQLSTATE 57014 (statement timeout) ` +
            `and must fail with it; it ${
              outcome.ok ? "succeeded" : `failed with ${describeError(outcome.error)}`
            }. Fix the cleanup, not the error.`,
        );
      } else checkReport(outcome, "replica free");
    }
    checkReturned(free, "replica free");
    step.expect(
      primary.stats().active === 0 && replica.stats().active === 0,
      () => outstanding("With the replica free"),
    );

    // Phase 2: something else holds the replica's only connection.
    const busy = await replica.acquire();
    let whileBusy: RequestOutcome<SensorReport>[];
    try {
      whileBusy = await runRequests({
        tracer,
        root: true,
        count: 3,
        send: () => sensorReport(primary, replica, new FaultSchedule({ failEvery: 0 })),
      });
    } finally {
      busy.release();
    }
    const primaryBackends = await backendsOf(primary.name);
    for (const outcome of whileBusy) {
      step.expect(
        outcome.error instanceof PoolExhaustedError && outcome.error.poolName === replica.name,
        () =>
          `With the replica busy, request ${outcome.request} must fail with the replica's PoolExhaustedError ` +
          `(no connection to count with); it ${
            outcome.ok ? "succeeded" : `failed with ${describeError(outcome.error)}`
          }.`,
      );
    }
    step.expect(
      primary.stats().active === 0,
      () =>
        `${
          outstanding("After 3 requests with the replica busy")
        } Each request took a primary connection, then replica.acquire() threw — and the primary connection was never ` +
        `returned (${primary.stats().leaked} detected as leaked). Postgres shows the primary's backends as ` +
        `${listOf(primaryBackends.map((b) => b.state))}: idle, held by nobody.`,
    );
    step.expect(
      primaryBackends.every((b) => b.state === "idle"),
      () =>
        `pg_stat_activity should show the primary's backends idle; it shows ` +
        `${listOf(primaryBackends.map((b) => b.state))}.`,
    );
    checkReturned(whileBusy, "replica busy");

    // Phase 3: the replica is free again, and nothing is left out afterwards.
    const after = await runRequests({
      tracer,
      root: true,
      count: 2,
      send: () => sensorReport(primary, replica, new FaultSchedule({ failEvery: 0 })),
    });
    for (const outcome of after) checkReport(outcome, "replica free again");
    checkReturned(after, "replica free again");
    step.expect(
      primary.stats().active === 0 && replica.stats().active === 0 && primary.stats().leaked === 0,
      () => outstanding("At the end"),
    );
  } finally {
    await primary.end();
    await replica.end();
  }
}));

/**
 * Checkpoint of step 4: `sensorReport()` returns both connections on every
 * path — a failed query, a replica too busy to hand out a connection, a
 * primary too busy — and only once their queries have finished.
 */
import { sqlstate } from "leak-lab/database.ts";
import { FaultSchedule, SENSOR_QUERY } from "leak-lab/demo/fault_schedule.ts";
import { type RequestOutcome, runRequests } from "leak-lab/demo/request_series.ts";
import { type Lease, PoolEndedError, PoolExhaustedError, type TracedPool } from "leak-lab/pool.ts";
import { type Checkpoint, checkpoint } from "leak-lab/workshop/checkpoint.ts";
import {
  describeError,
  handedOutWhileBusy,
  leaseBalance,
  leaseTimelines,
  listOf,
  ms,
  queryFailedIn,
  returnedWhileBusy,
  runConcurrentRequests,
  traceStartedAt,
} from "leak-lab/workshop/checkpoint_checks.ts";
import { adminQuery, backendsOf, checkpointPool } from "leak-lab/workshop/checkpoint_database.ts";
import { recordingTracer } from "leak-lab/workshop/recording_tracer.ts";
import { type SensorReport, sensorReport } from "./sensor_report.ts";

const step: Checkpoint = checkpoint({ edit: "sensor_report.ts" });

Deno.test(step.test("sensorReport() returns both connections on every path, once their queries are done", async () => {
  // One tracer per pool: each trace then holds one lease of each pool, and its queries.
  const primaryTraces = recordingTracer();
  const replicaTraces = recordingTracer();
  const primary = checkpointPool("step04-primary", { max: 3, acquireTimeoutMs: 500, tracer: primaryTraces.tracer });
  const replica = checkpointPool("step04-replica", { max: 1, acquireTimeoutMs: 500, tracer: replicaTraces.tracer });
  // For requests queueing at once: the same one-connection replica, with time to wait its turn even on a busy machine.
  const queue = checkpointPool("step04-replica", { max: 1, acquireTimeoutMs: 5_000, tracer: replicaTraces.tracer });
  const tracer = primaryTraces.tracer;
  const latest = JSON.stringify(await adminQuery(SENSOR_QUERY));
  const [{ total }] = await adminQuery<{ total: number }>("SELECT count(*)::int AS total FROM sensors");
  const pools = [
    { name: "primary", spans: () => primaryTraces.exporter.getFinishedSpans() },
    { name: "replica", spans: () => replicaTraces.exporter.getFinishedSpans() },
  ];
  const outstanding = (when: string) =>
    `${when}: the primary has ${primary.stats().active} connection(s) out, the replica ${replica.stats().active}.`;
  const did = (o: RequestOutcome<unknown>) => (o.ok ? "succeeded" : `failed with ${describeError(o.error)}`);

  /** What must hold for every request, whatever the phase: each lease back, and only after its queries. */
  const checkLeases = (outcomes: RequestOutcome<SensorReport>[], phase: string) => {
    const ended = outcomes.find((o) => o.error instanceof PoolEndedError);
    if (ended) {
      const which = (ended.error as PoolEndedError).poolName === primary.name ? "primary" : "replica";
      step.fail(
        `Request ${ended.request} (${phase}) failed with ${describeError(ended.error)}: the ${which} pool had been ` +
          "ended by an earlier request. `await using` on a pool ends the whole pool when the block exits; put it on " +
          "each lease (`await using conn = await primary.acquire()`).",
      );
    }
    for (const outcome of outcomes) {
      for (const { name, spans } of pools) {
        const early = returnedWhileBusy(leaseTimelines(spans(), outcome.traceId));
        if (!early) continue;
        const start = traceStartedAt(primaryTraces.exporter.getFinishedSpans(), outcome.traceId);
        step.fail(
          `Request ${outcome.request} (${phase}) gave its ${name} connection (#${early.leaseId}) back to the pool ` +
            `before its query finished: connection_returned_safely comes at ${ms(early.returnedAt! - start)}, the ` +
            `query ends at ${ms(early.busyUntil - start)}. Returning the queries' promise without \`await\` leaves ` +
            "the block at once, and `await using` disposes the leases while their queries still run.",
        );
      }
    }
    for (const outcome of outcomes) {
      for (const { name, spans } of pools) {
        const [kept] = leaseBalance(spans(), outcome.traceId).kept;
        if (kept === undefined) continue;
        const other = name === "primary" ? replica : primary;
        const otherBusy = outcome.error instanceof PoolExhaustedError && outcome.error.poolName === other.name;
        const why = otherBusy
          ? `${name === "primary" ? "replica" : "primary"}.acquire() threw PoolExhaustedError after the ${name} ` +
            `connection was taken — and the ${name} connection was never returned` +
            (name === "replica" ? ": taking the replica first only moved the leak to the other lease" : "")
          : outcome.ok
          ? `it succeeded, yet its ${name} connection was never returned`
          : `its query failed and nothing gave its ${name} connection back on that path`;
        step.fail(
          `Request ${outcome.request} (${phase}) ${did(outcome)} and kept ${name} connection #${kept}: ${why}. ` +
            `Every lease needs its cleanup from the moment it exists. ${outstanding("Now")}`,
        );
      }
    }
  };
  const checkReport = (outcome: RequestOutcome<SensorReport>, phase: string) => {
    step.expect(
      outcome.ok,
      () => `Request ${outcome.request} (${phase}) is not scheduled to fail, but it ${did(outcome)}.`,
    );
    step.expect(
      JSON.stringify(outcome.value?.readings) === latest && outcome.value?.total === total,
      () =>
        `Request ${outcome.request} (${phase}) answered readings that differ from Postgres' "${SENSOR_QUERY}" or a ` +
        `total of ${JSON.stringify(outcome.value?.total)} instead of ${total}: the report must come from the two ` +
        "queries.",
    );
  };
  const checkBusy = (outcomes: RequestOutcome<SensorReport>[], busy: TracedPool, phase: string) => {
    for (const outcome of outcomes) {
      step.expect(
        outcome.error instanceof PoolExhaustedError && outcome.error.poolName === busy.name,
        () =>
          `With the ${phase}, request ${outcome.request} must fail with that pool's PoolExhaustedError (there is no ` +
          `connection to report with); it ${did(outcome)}.`,
      );
    }
  };
  const send = (faults: FaultSchedule) => () => sensorReport(primary, replica, faults);
  const holding = async <T>(pool: TracedPool, count: number, fn: () => Promise<T>): Promise<T> => {
    const held: Lease[] = [];
    try {
      for (let i = 0; i < count; i++) held.push(await pool.acquire());
      return await fn();
    } finally {
      for (const lease of held) lease.release();
    }
  };

  try {
    // Phase 1: both pools free; every 2nd query on the primary fails.
    const faults = new FaultSchedule({ failEvery: 2 });
    const free = await runRequests({ tracer, root: true, count: 6, send: send(faults) });
    checkLeases(free, "both pools free");
    for (const outcome of free) {
      if (outcome.request % 2 === 1) checkReport(outcome, "both pools free");
      else {
        step.expect(
          !outcome.ok && sqlstate(outcome.error) === "57014",
          () =>
            `Request ${outcome.request} (both pools free) is scheduled to fail with SQLSTATE 57014 (statement ` +
            `timeout) and must fail with it; it ${did(outcome)}${
              !outcome.ok
                ? ""
                : queryFailedIn(primaryTraces.exporter.getFinishedSpans(), outcome.traceId)
                ? ": its query failed, but the error was caught and swallowed"
                : ": its query never failed, so it did not run through readSensors(conn, faults)"
            }. Fix the cleanup, not the error.`,
        );
      }
    }

    // Phase 2: something else holds the replica's only connection.
    const replicaBusy = await holding(
      replica,
      1,
      () => runRequests({ tracer, root: true, count: 2, send: send(new FaultSchedule({ failEvery: 0 })) }),
    );
    checkLeases(replicaBusy, "replica busy");
    checkBusy(replicaBusy, replica, "replica busy");
    const primaryBackends = await backendsOf(primary.name);
    step.expect(
      primary.stats().active === 0 && primaryBackends.every((b) => b.state === "idle"),
      () =>
        `${outstanding("After 2 requests with the replica busy")} pg_stat_activity shows the primary's backends as ` +
        `${listOf(primaryBackends.map((b) => b.state))}.`,
    );

    // Phase 3: something else holds all of the primary's connections.
    const primaryBusy = await holding(
      primary,
      primary.max,
      () => runRequests({ tracer, root: true, count: 2, send: send(new FaultSchedule({ failEvery: 0 })) }),
    );
    checkLeases(primaryBusy, "primary busy");
    checkBusy(primaryBusy, primary, "primary busy");

    // Phase 4: three requests at once queue for the replica's one connection.
    const together = await runConcurrentRequests({
      tracer,
      count: 3,
      send: () => sensorReport(primary, queue, new FaultSchedule({ failEvery: 0 })),
    });
    checkLeases(together, "3 requests at once");
    const replicaSpans = replicaTraces.exporter.getFinishedSpans();
    const overlap = handedOutWhileBusy(together.flatMap((o) => leaseTimelines(replicaSpans, o.traceId)));
    step.expect(
      overlap === undefined,
      () =>
        `With 3 requests at once, the replica's only connection was handed out (lease #${overlap!.later.leaseId}) ` +
        `while the previous request's query on it was still running (${
          ms(overlap!.earlier.busyUntil - overlap!.later.acquiredAt)
        } more): it went back to the pool before its query finished.`,
    );
    for (const outcome of together) checkReport(outcome, "3 requests at once");

    // Phase 5: nothing is left out at the end.
    step.expect(
      primary.stats().active === 0 && replica.stats().active === 0 && queue.stats().active === 0 &&
        primary.stats().leaked === 0,
      () => outstanding("At the end"),
    );
  } finally {
    await primary.end();
    await replica.end();
    await queue.end();
  }
}));

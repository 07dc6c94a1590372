/**
 * Checkpoint of step 3: `listSensors()` returns its connection on every path,
 * and only once its query has finished. Judged by behaviour: the rows against
 * Postgres, the scheduled failures with their real SQLSTATE, the pool's
 * counters, every trace (when each connection was taken, queried and given
 * back), concurrent requests on a pool of one, and pg_stat_activity.
 */
import { sqlstate } from "leak-lab/database.ts";
import { FaultSchedule, SENSOR_QUERY } from "leak-lab/demo/fault_schedule.ts";
import { type RequestOutcome, runRequests } from "leak-lab/demo/request_series.ts";
import { LeaseReleasedError, PoolExhaustedError } from "leak-lab/pool.ts";
import { type Checkpoint, checkpoint } from "leak-lab/workshop/checkpoint.ts";
import {
  describeError,
  firstSentence,
  handedOutWhileBusy,
  leaseBalance,
  leaseTimelines,
  listOf,
  ms,
  queryFailedIn,
  returnedWhileBusy,
  runConcurrentRequests,
  shown,
  traceOf,
  traceStartedAt,
} from "leak-lab/workshop/checkpoint_checks.ts";
import { adminQuery, backendsOf, checkpointPool } from "leak-lab/workshop/checkpoint_database.ts";
import { recordingTracer } from "leak-lab/workshop/recording_tracer.ts";
import { listSensors } from "./list_sensors.ts";

const step: Checkpoint = checkpoint({ edit: "list_sensors.ts" });
const REQUESTS = 20;
const FAULTS = { failEvery: 3 };

/** The requests a fresh schedule fails, when each request runs one query. */
function scheduledFailures(count: number): number[] {
  const schedule = new FaultSchedule(FAULTS);
  return Array.from({ length: count }, (_, i) => i + 1).filter(() => schedule.next());
}

/** Says what a request did: "succeeded", or "failed with …". */
function did(outcome: RequestOutcome<unknown>): string {
  return outcome.ok ? "succeeded" : `failed with ${describeError(outcome.error)}`;
}

Deno.test(step.test("listSensors() returns its connection on every path, over 20 requests", async () => {
  const { tracer, exporter } = recordingTracer();
  const pool = checkpointPool("step03", { max: 5, tracer });
  const faults = new FaultSchedule(FAULTS);
  const scheduled = scheduledFailures(REQUESTS);
  const databaseRows = JSON.stringify(await adminQuery(SENSOR_QUERY));

  try {
    const outcomes = await runRequests({ tracer, root: true, count: REQUESTS, send: () => listSensors(pool, faults) });
    const spans = exporter.getFinishedSpans();
    const stats = pool.stats();
    const exhausted = outcomes.filter((o) => o.error instanceof PoolExhaustedError).map((o) => o.request);
    const kept = (o: RequestOutcome<unknown>) => leaseBalance(spans, o.traceId).kept;
    const summary = `After ${REQUESTS} requests (pool max 5, every 3rd query failing) ${stats.active} connection(s) ` +
      `were out, ${stats.leaked} detected as leaked, and requests ${listOf(exhausted)} found the pool exhausted.`;

    // The pool itself refuses a second release(), and a query on a returned connection.
    const refused = outcomes.find((o) => o.error instanceof LeaseReleasedError);
    if (refused) {
      const twice = /called twice/.test((refused.error as Error).message);
      const lost = scheduled.includes(refused.request) ? "its real error (SQLSTATE 57014)" : "its rows";
      step.fail(
        twice
          ? `Request ${refused.request} released its connection twice: the second release() threw ` +
            `LeaseReleasedError ("${firstSentence(refused.error)}"), and that error replaced ${lost}. Release the ` +
            "connection exactly once, in one place that every path goes through."
          : `Request ${refused.request} failed with ${describeError(refused.error)}: its connection was given back ` +
            "before its query used it. Release it after the query.",
      );
    }

    // Given back while its query still ran: finally ran before the query finished.
    for (const outcome of outcomes) {
      const early = returnedWhileBusy(leaseTimelines(spans, outcome.traceId));
      if (!early) continue;
      const start = traceStartedAt(spans, outcome.traceId);
      step.fail(
        `Request ${outcome.request} gave its connection (#${early.leaseId}) back to the pool before its query ` +
          `finished: in its trace, connection_returned_safely comes at ${ms(early.returnedAt! - start)} and the ` +
          `database.query span ends at ${ms(early.busyUntil - start)}. The connection went back while the query ` +
          "still ran, so the next request can be handed a busy connection. A `return` of the query's promise " +
          "without `await` ends the block at once: `finally` (or `await using`) gives the connection back before " +
          "the query is done.",
      );
    }

    // Kept connections: on the error path only (the original bug), or on the success path.
    const keptOnFailure = outcomes.filter((o) => !o.ok && !(o.error instanceof PoolExhaustedError) && kept(o).length);
    const keptOnSuccess = outcomes.filter((o) => o.ok && kept(o).length);
    if (keptOnSuccess.length > 0 && keptOnFailure.length === 0) {
      const first = keptOnSuccess[0];
      step.fail(
        `Request ${first.request} succeeded and kept its connection (#${kept(first)[0]}): its trace has ` +
          "connection_acquired but no connection_returned_safely. The requests that failed gave theirs back, the " +
          "successful path now leaks instead: releasing only when the query throws covers the error path alone. " +
          summary,
      );
    }
    for (const outcome of keptOnFailure) {
      step.fail(
        `Request ${outcome.request} ${did(outcome)} and its connection never came back: its trace has ` +
          `get_connection → connection_acquired for lease #${kept(outcome)[0]} but no return_connection → ` +
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
            "with the real error (SQLSTATE 57014, statement timeout). It " +
            (!outcome.ok
              ? `failed with ${describeError(outcome.error)}. Fix the leak, not the error: let the real error reach ` +
                "the caller."
              : queryFailedIn(spans, outcome.traceId)
              ? `returned ${shown(outcome.value)} instead: its query failed, but the error was caught and swallowed, ` +
                "so the caller never learns the request failed. Fix the leak, not the error: let the error reach the " +
                "caller."
              : `returned ${shown(outcome.value)} instead: its query never failed, so it did not run through ` +
                "readSensors(conn, faults), which is what makes the scheduled queries fail."),
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
              Array.isArray(outcome.value) ? `${outcome.value.length} row(s)` : shown(outcome.value)
            } that differ from what Postgres has for "${SENSOR_QUERY}". listSensors() must return readSensors()' rows.`,
        );
      }
    }
    step.expect(stats.active === 0 && stats.leaked === 0, () => `Connections are still out. ${summary}`);

    for (const outcome of outcomes) {
      step.expect(
        traceOf(spans, outcome.traceId).some((span) => span.name === "list_sensors"),
        () =>
          `Request ${outcome.request}'s trace has no list_sensors span: keep the pool.scope("list_sensors", …) ` +
          "around the handler, it is what lets the pool tell a leak.",
      );
      const { acquired } = leaseBalance(spans, outcome.traceId);
      step.expect(
        acquired.length === 1 && kept(outcome).length === 0,
        () =>
          `Request ${outcome.request}'s trace should show one connection taken (connection_acquired) and given ` +
          `back (connection_returned_safely) within the request; it shows ${acquired.length} taken, ` +
          `${kept(outcome).length} not given back.`,
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

Deno.test(step.test("listSensors() never hands out a connection whose query is still running", async () => {
  // One connection, four requests at once: each must wait until the one before is done with it.
  const { tracer, exporter } = recordingTracer();
  const pool = checkpointPool("step03-one", { max: 1, acquireTimeoutMs: 1_500, tracer });
  const faults = new FaultSchedule({ failEvery: 2 });
  const databaseRows = JSON.stringify(await adminQuery(SENSOR_QUERY));
  try {
    const outcomes = await runConcurrentRequests({ tracer, count: 4, send: () => listSensors(pool, faults) });
    const spans = exporter.getFinishedSpans();
    const timelines = outcomes.flatMap((o) => leaseTimelines(spans, o.traceId));
    const start = Math.min(...timelines.map((t) => t.acquiredAt));
    const requestOf = (t: { traceId: string }) => outcomes.find((o) => o.traceId === t.traceId)!.request;

    const overlap = handedOutWhileBusy(timelines);
    step.expect(
      overlap === undefined,
      () =>
        `With 4 requests at once on a pool of one connection, request ${requestOf(overlap!.later)} was handed the ` +
        `connection (lease #${overlap!.later.leaseId}) at ${ms(overlap!.later.acquiredAt - start)} while request ` +
        `${requestOf(overlap!.earlier)}'s query on that same connection was still running (until ` +
        `${ms(overlap!.earlier.busyUntil - start)}): the connection went back to the pool before its query ` +
        "finished. Give it back only once the query is done.",
    );
    const keeper = outcomes.find((o) => leaseBalance(spans, o.traceId).kept.length > 0);
    step.expect(
      keeper === undefined && pool.stats().active === 0,
      () =>
        `With 4 requests at once on a pool of one connection, request ${keeper?.request ?? 1} ${
          keeper ? did(keeper) : "ended"
        } and kept the connection; the others waited for it: ` +
        outcomes.map((o) => `request ${o.request} ${did(o)}`).join("; ") + ".",
    );
    const failed = outcomes.filter((o) => !o.ok);
    step.expect(
      failed.every((o) => sqlstate(o.error) === "57014") && failed.length === 2,
      () =>
        `Of 4 requests at once (every 2nd query failing), 2 should fail with SQLSTATE 57014 and 2 succeed: ` +
        outcomes.map((o) => `request ${o.request} ${did(o)}`).join("; ") + ".",
    );
    step.expect(
      outcomes.filter((o) => o.ok).every((o) => JSON.stringify(o.value) === databaseRows),
      "A successful request returned rows that differ from what Postgres has: return readSensors()' rows.",
    );
  } finally {
    await pool.end();
  }
}));

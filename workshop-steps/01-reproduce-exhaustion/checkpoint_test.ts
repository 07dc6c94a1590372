/**
 * Checkpoint of step 1: `findExhaustion()` names the request where the pool
 * ran dry, with the leaking handler over a real pool. The expected request is
 * worked out here from the failure schedule alone, so no constant passes.
 */
import { sqlstate } from "../../lib/database.ts";
import { type FaultOptions, FaultSchedule } from "../../lib/demo/fault_schedule.ts";
import { badQueryWithLeak, goodQueryNoLeak } from "../../lib/demo/query_handlers.ts";
import { PoolExhaustedError } from "../../lib/pool.ts";
import { type Checkpoint, checkpoint } from "../../lib/workshop/checkpoint.ts";
import { describeError, listOf } from "../../lib/workshop/checkpoint_checks.ts";
import { backendsOf, checkpointPool } from "../../lib/workshop/checkpoint_database.ts";
import { findExhaustion } from "./find_exhaustion.ts";

const step: Checkpoint = checkpoint({
  step: "01-reproduce-exhaustion",
  edit: "find_exhaustion.ts",
  hint: new URL("./hint.md", import.meta.url),
});
interface Scenario {
  max: number;
  faults: FaultOptions;
  maxRequests: number;
}

const LEAKING: Scenario[] = [
  { max: 5, faults: { failEvery: 2 }, maxRequests: 20 },
  { max: 3, faults: { failEvery: 3 }, maxRequests: 20 },
  { max: 4, faults: { failRate: 0.3, seed: 7 }, maxRequests: 40 },
];

/**
 * The leaking handler loses one connection per failed query, so the request
 * after the `max`-th failure is the first to find no connection.
 */
function expectedExhaustion(scenario: Scenario): { request: number; failed: number[] } {
  const schedule = new FaultSchedule(scenario.faults);
  const failed: number[] = [];
  for (let request = 1; request <= scenario.maxRequests; request++) {
    if (failed.length === scenario.max) return { request, failed };
    if (schedule.next()) failed.push(request);
  }
  throw new Error(`checkpoint bug: scenario ${JSON.stringify(scenario)} never exhausts its pool`);
}

/** A sendRequest() that records what each request got, for the checkpoint to compare. */
function recordingSender(send: () => Promise<unknown>) {
  const calls: { error?: unknown }[] = [];
  const sendRequest = async () => {
    const call: { error?: unknown } = {};
    calls.push(call);
    try {
      return await send();
    } catch (error) {
      call.error = error;
      throw error;
    }
  };
  return { calls, sendRequest };
}

Deno.test(step.test("findExhaustion() names the first request that found the pool exhausted", async () => {
  for (const scenario of LEAKING) {
    const expected = expectedExhaustion(scenario);
    const faults = new FaultSchedule(scenario.faults);
    const setup = `pool max ${scenario.max}, ${faults.description}, leaking handler`;
    const pool = checkpointPool("step01", { max: scenario.max });
    try {
      const { calls, sendRequest } = recordingSender(() => badQueryWithLeak(pool, faults));
      const found = await findExhaustion(sendRequest, scenario.maxRequests);

      step.expect(
        found !== undefined,
        () =>
          `findExhaustion() returned undefined (${setup}), but the pool ran dry at request ${expected.request}: ` +
          `${calls.length} request(s) were sent and request ${expected.request} got ` +
          `${describeError(calls[expected.request - 1]?.error)}.`,
      );
      const got = calls[found.request - 1];
      step.expect(
        got?.error === undefined || got.error instanceof PoolExhaustedError,
        () =>
          `findExhaustion() reported request ${found.request} as the first exhausted one (${setup}), but request ` +
          `${found.request} failed with ${describeError(got?.error)}: that is a query failure, not exhaustion — ` +
          `the cause of the leak, not the outage. The pool was first exhausted at request ${expected.request}.`,
      );
      step.expect(
        found.request === expected.request,
        () =>
          `findExhaustion() reported request ${found.request} (${setup}), but the pool was first exhausted at ` +
          `request ${expected.request}, after the queries of requests ${listOf(expected.failed)} failed.`,
      );
      step.expect(
        found.error === got.error,
        () =>
          `findExhaustion() reported request ${found.request} with an error the request did not get ` +
          `(${describeError(found.error)}). Return the PoolExhaustedError that sendRequest() threw.`,
      );
      step.expect(
        calls.length === found.request,
        () =>
          `findExhaustion() sent ${calls.length} requests but reported request ${found.request}: stop sending at ` +
          `the first exhausted request, and number requests from 1.`,
      );
      const queryFailures = calls.slice(0, found.request - 1).flatMap((call, i) =>
        sqlstate(call.error) === "57014" ? [i + 1] : []
      );
      step.expect(
        JSON.stringify(found.failedBefore) === JSON.stringify(queryFailures),
        () =>
          `findExhaustion() gave failedBefore = [${found.failedBefore}] (${setup}), but the requests that failed ` +
          `before the exhaustion were ${listOf(queryFailures)} (each with SQLSTATE 57014, statement timeout).`,
      );
      step.expect(
        JSON.stringify(queryFailures) === JSON.stringify(expected.failed),
        () =>
          `The scheduled queries should fail at requests ${listOf(expected.failed)} but failed at ` +
          `${listOf(queryFailures)}: call sendRequest() exactly once per request.`,
      );

      const backends = await backendsOf(pool.name);
      step.expect(
        backends.length === scenario.max && backends.every((b) => b.state === "idle"),
        () =>
          `At the exhaustion Postgres should show all ${scenario.max} connections of the pool held and idle, but ` +
          `pg_stat_activity shows ${backends.length}: ${backends.map((b) => b.state).join(", ")}.`,
      );
    } finally {
      await pool.end();
    }
  }
}));

Deno.test(step.test("findExhaustion() returns undefined when the pool never runs dry", async () => {
  const faults = new FaultSchedule({ failEvery: 2 });
  const pool = checkpointPool("step01", { max: 5 });
  try {
    const { calls, sendRequest } = recordingSender(() => goodQueryNoLeak(pool, faults));
    const found = await findExhaustion(sendRequest, 12);
    step.expect(
      found === undefined,
      () =>
        `With the fixed handler (every 2nd query fails, each connection returned) nothing is exhausted, but ` +
        `findExhaustion() reported request ${found?.request} (which got ${
          describeError(calls[(found?.request ?? 1) - 1]?.error)
        }).`,
    );
    step.expect(
      calls.length === 12,
      () =>
        `findExhaustion(sendRequest, 12) should send all 12 requests when none is exhausted; it sent ${calls.length}.`,
    );
  } finally {
    await pool.end();
  }
}));

/**
 * Checkpoint of step 1: `findExhaustion()` names the request where the pool
 * ran dry, with the leaking handler over a real pool. The expected request is
 * worked out here from the failure schedule alone, so no constant passes.
 */
import { sqlstate } from "leak-lab/database.ts";
import { type FaultOptions, FaultSchedule } from "leak-lab/demo/fault_schedule.ts";
import { badQueryWithLeak, goodQueryNoLeak } from "leak-lab/demo/query_handlers.ts";
import { PoolExhaustedError } from "leak-lab/pool.ts";
import { type Checkpoint, checkpoint } from "leak-lab/workshop/checkpoint.ts";
import { describeError, listOf } from "leak-lab/workshop/checkpoint_checks.ts";
import { backendsOf, checkpointPool } from "leak-lab/workshop/checkpoint_database.ts";
import { findExhaustion } from "./find_exhaustion.ts";

const step: Checkpoint = checkpoint({ edit: "find_exhaustion.ts" });
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

/** A sendRequest() that records what each call got, and how many ran at once, for the checkpoint to compare. */
function recordingSender(send: () => Promise<unknown>) {
  const calls: { error?: unknown }[] = [];
  let inFlight = 0;
  let mostAtOnce = 0;
  const sendRequest = async () => {
    const call: { error?: unknown } = {};
    calls.push(call);
    mostAtOnce = Math.max(mostAtOnce, ++inFlight);
    try {
      return await send();
    } catch (error) {
      call.error = error;
      throw error;
    } finally {
      inFlight--;
    }
  };
  return { calls, sendRequest, mostAtOnce: () => mostAtOnce };
}

Deno.test(step.test("findExhaustion() names the first request that found the pool exhausted", async () => {
  for (const scenario of LEAKING) {
    const expected = expectedExhaustion(scenario);
    const faults = new FaultSchedule(scenario.faults);
    const setup = `pool max ${scenario.max}, ${faults.description}, leaking handler`;
    const pool = checkpointPool("step01", { max: scenario.max });
    try {
      const { calls, sendRequest, mostAtOnce } = recordingSender(() => badQueryWithLeak(pool, faults));
      const found = await findExhaustion(sendRequest, scenario.maxRequests);
      const exhaustedAt = calls.findIndex((call) => call.error instanceof PoolExhaustedError) + 1;

      step.expect(
        mostAtOnce() === 1,
        () =>
          `findExhaustion() had up to ${mostAtOnce()} requests in flight at once (${setup}). Send them one after ` +
          'another, awaiting each, as the scenario does: only then is "the first request that found the pool ' +
          'exhausted" well defined, and only then can you stop sending at the outage.',
      );
      step.expect(
        found !== undefined,
        () =>
          `findExhaustion() returned \`undefined\` (${setup}), but the pool ran dry at request ${expected.request}: ` +
          `${calls.length} request(s) were sent and request ${expected.request} got ` +
          `${describeError(calls[expected.request - 1]?.error)}.`,
      );
      step.expect(
        !(found.request === calls.length - 1 && exhaustedAt === calls.length),
        () =>
          `findExhaustion() reported request ${found.request}, but that was call number ${calls.length} of ` +
          `sendRequest(): requests are numbered from 1, so the first request is request 1 and the exhausted one is ` +
          `request ${calls.length} (${setup}).`,
      );
      step.expect(
        calls.length <= found.request || exhaustedAt !== found.request,
        () =>
          `findExhaustion() found the pool exhausted at request ${found.request} and kept sending: it sent ` +
          `${calls.length - found.request} more request(s) after the outage (${setup}). A load test stops at the ` +
          "first exhausted request: return there.",
      );
      step.expect(
        calls.length <= found.request,
        () =>
          `findExhaustion() called sendRequest() ${calls.length} times but reported request ${found.request} ` +
          `(${setup}): some requests were sent more than once. Call sendRequest() exactly once per request and do ` +
          "not retry a failed one: a failed query is a failed request, and each one keeps a connection.",
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
          `request ${expected.request}, after the queries of requests ${listOf(expected.failed)} failed` +
          (exhaustedAt > 0 && exhaustedAt < found.request
            ? `: request ${exhaustedAt} already found it exhausted, so report the first one.`
            : "."),
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
          `findExhaustion() sent ${calls.length} request(s) but reported request ${found.request}: stop sending at ` +
          "the first exhausted request, and number requests from 1.",
      );
      const queryFailures = calls.slice(0, found.request - 1).flatMap((call, i) =>
        sqlstate(call.error) === "57014" ? [i + 1] : []
      );
      step.expect(
        !found.failedBefore.includes(found.request),
        () =>
          `findExhaustion() gave failedBefore = [${found.failedBefore}] (${setup}), which includes request ` +
          `${found.request} itself, the exhausted one. failedBefore lists the requests that failed before the ` +
          `outage: ${listOf(queryFailures)}.`,
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
        }). Return \`undefined\` when no request found the pool exhausted.`,
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

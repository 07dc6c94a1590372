/**
 * Checkpoint of step 1: `findExhaustion()` names the request where the pool
 * ran dry, over a real pool. The expected request is worked out here from the
 * scenario alone (which requests keep a connection, how many connections
 * other code holds), so no constant passes.
 *
 * The README's scenario runs first (pool max 5, every 2nd query fails, the
 * leaking handler); then seeded ones vary every fact the exercise does not
 * promise: the pool's size and its acquire timeout, connections held by other
 * code before the first request (the pool can be dry at request 1), which
 * requests fail and with what (SQLSTATE 57014 and others, errors with no
 * SQLSTATE, one whose message says "exhausted"), whether a failed request
 * keeps its connection, requests that fail without touching the pool, what a
 * successful request resolves with, and whether the outage falls on the very
 * last request `maxRequests` allows, or never comes.
 */
import { sqlstate } from "leak-lab/database.ts";
import { FAILING_SENSOR_QUERY, type FaultOptions, FaultSchedule, SENSOR_QUERY } from "leak-lab/demo/fault_schedule.ts";
import { badQueryWithLeak, goodQueryNoLeak } from "leak-lab/demo/query_handlers.ts";
import { type Lease, PoolExhaustedError, type TracedPool } from "leak-lab/pool.ts";
import { type Checkpoint, checkpoint } from "leak-lab/workshop/checkpoint.ts";
import { describeError, listOf, shown } from "leak-lab/workshop/checkpoint_checks.ts";
import { backendsOf, checkpointPool } from "leak-lab/workshop/checkpoint_database.ts";
import type { SeededRandom } from "leak-lab/workshop/checkpoint_seed.ts";
import { findExhaustion } from "./find_exhaustion.ts";

const step: Checkpoint = checkpoint({ edit: "find_exhaustion.ts" });

/** What one request of a seeded scenario does. */
type Kind =
  | "ok" // acquires, queries, releases; resolves with rows
  | "ok-void" // the same, resolves with `undefined`
  | "timeout-leak" // its query is cancelled (57014), its connection stays out
  | "timeout-returned" // its query is cancelled (57014), its connection goes back
  | "sql-leak" // another SQLSTATE, connection stays out
  | "sql-returned" // another SQLSTATE, connection goes back
  | "app-leak" // app code throws after its query (no SQLSTATE), connection stays out
  | "app-returned" // app code throws after its query, connection goes back
  | "invalid-input"; // fails before it touches the pool

interface Request {
  kind: Kind;
  /** For sql-*: the failing statement and its SQLSTATE. */
  sql?: { text: string; code: string };
  /** For app-* and invalid-input: what is thrown. */
  makeError?: () => Error;
}

const acquires = (kind: Kind) => kind !== "invalid-input";
const keeps = (kind: Kind) => kind.endsWith("-leak");
const fails = (kind: Kind) => !kind.startsWith("ok");

const SQL_FAILURES = [
  { text: "SELECT 1 / (count(*) - count(*)) FROM sensors", code: "22012" },
  { text: "SELECT 'sensor-7'::int FROM sensors LIMIT 1", code: "22P02" },
];
const APP_ERRORS: (() => Error)[] = [
  () => new TypeError("Cannot read properties of null (reading 'celsius')"),
  () => new Error("weather API answered 503 Service Unavailable"),
  () => new RangeError("reading -9999 is outside the sensor's range"),
];
/** An ordinary failure whose message says "exhausted": only its class tells it from the outage. */
const RATE_LIMIT = () => new Error("upstream rate limit exhausted for tenant 7, retry after 2 s");
const INVALID_INPUT = () => new Error('invalid sensor id "": expected a positive integer');

interface Scenario {
  /** For messages: what the learner needs to picture the run. */
  setup: string;
  max: number;
  /** Connections other code holds before the first request. */
  held: number;
  maxRequests: number;
  acquireTimeoutMs: number;
  /** The README's scenario: the leaking handler on a fault schedule. */
  faults?: FaultOptions;
  /** Seeded scenarios: what each request does (requests past the end just query). */
  requests?: Request[];
}

/** Where the pool must run dry, and which requests fail before it (with what, and whether they keep a connection). */
interface Expected {
  /** 0 when it never runs dry within maxRequests. */
  request: number;
  failed: number[];
}

function expectedOf(scenario: Scenario): Expected {
  const failed: number[] = [];
  let free = scenario.max - scenario.held;
  if (scenario.faults) {
    const schedule = new FaultSchedule(scenario.faults);
    for (let request = 1; request <= scenario.maxRequests; request++) {
      if (free === 0) return { request, failed };
      if (schedule.next()) failed.push(request), free--;
    }
    return { request: 0, failed };
  }
  for (let request = 1; request <= scenario.maxRequests; request++) {
    const kind = scenario.requests![request - 1]?.kind ?? "ok";
    if (acquires(kind) && free === 0) return { request, failed };
    if (fails(kind)) failed.push(request);
    if (keeps(kind)) free--;
  }
  return { request: 0, failed };
}

/** A request of a seeded scenario, run against the real pool. */
async function send(pool: TracedPool, request: Request): Promise<unknown> {
  if (request.kind === "invalid-input") throw request.makeError!();
  const conn: Lease = await pool.acquire();
  const keep = keeps(request.kind);
  let ok = false;
  try {
    if (request.kind.startsWith("timeout")) await conn.query(FAILING_SENSOR_QUERY);
    else if (request.kind.startsWith("sql")) await conn.query(request.sql!.text);
    else {
      const { rows } = await conn.query(SENSOR_QUERY);
      if (request.kind.startsWith("app")) throw request.makeError!();
      ok = true;
      return request.kind === "ok-void" ? undefined : rows;
    }
    throw new Error("checkpoint bug: a failing statement succeeded");
  } finally {
    if (ok || !keep) conn.release();
  }
}

/** Inserts `item` at a random position of `items`, at most `last` (default: the end). */
function insertAt<T>(random: SeededRandom, items: T[], item: T, last = items.length): void {
  items.splice(random.int(0, last), 0, item);
}

function sqlRequest(random: SeededRandom, kind: "sql-leak" | "sql-returned"): Request {
  return { kind, sql: random.pick(SQL_FAILURES) };
}

/**
 * Scenario A: failures of every kind, some keeping their connection and some not, a
 * success resolving with nothing, 0–1 connections held elsewhere, and the outage on
 * the last request `maxRequests` allows.
 */
function mixedFailures(random: SeededRandom): Scenario {
  const held = random.int(0, 1);
  const leaking: Request[] = random.shuffle([
    sqlRequest(random, "sql-leak"),
    { kind: "app-leak", makeError: random.pick(APP_ERRORS) },
    ...(random.int(0, 1) ? [{ kind: "timeout-leak" as const }] : []),
  ]);
  const max = held + leaking.length;
  const requests = [...leaking];
  for (
    const extra of random.shuffle<Request>([
      { kind: "ok-void" },
      { kind: "app-returned", makeError: RATE_LIMIT },
      random.pick<Request>([{ kind: "timeout-returned" }, sqlRequest(random, "sql-returned"), {
        kind: "invalid-input",
        makeError: INVALID_INPUT,
      }]),
      { kind: "ok" },
    ])
  ) insertAt(random, requests, extra, requests.length - 1); // before the last request that keeps a connection
  requests.push({ kind: random.pick<Kind>(["ok", "ok-void"]) }); // finds no connection
  return {
    setup: `pool max ${max}${held ? ", 1 of its connections held by other code" : ""}, ` +
      `findExhaustion(sendRequest, ${requests.length}), requests failing in several ways`,
    max,
    held,
    maxRequests: requests.length,
    acquireTimeoutMs: random.int(80, 250),
    requests,
  };
}

/** Scenario B: other code holds every connection before the first request: the pool is dry at once. */
function dryFromTheStart(random: SeededRandom): Scenario {
  const max = random.int(1, 3);
  const requests: Request[] = random.shuffle<Request>([{ kind: "ok" }, { kind: "timeout-leak" }]);
  return {
    setup: `pool max ${max}, all ${max} of its connections held by other code before the first request, ` +
      `findExhaustion(sendRequest, ${requests.length + 4})`,
    max,
    held: max,
    maxRequests: requests.length + 4,
    acquireTimeoutMs: random.int(80, 250),
    requests,
  };
}

/** Scenario C: requests fail and keep connections, but fewer than the pool has: it never runs dry. */
function neverDry(random: SeededRandom): Scenario {
  const max = random.int(3, 4);
  const requests: Request[] = [
    { kind: "timeout-leak" },
    ...(max > 3 ? [sqlRequest(random, "sql-leak")] : []),
    { kind: "app-leak", makeError: random.pick(APP_ERRORS) },
  ];
  const extras = random.int(2, 4);
  for (let i = 0; i < extras; i++) {
    insertAt(
      random,
      requests,
      random.pick<Request>([{ kind: "ok" }, { kind: "ok-void" }, { kind: "timeout-returned" }, {
        kind: "app-returned",
        makeError: RATE_LIMIT,
      }]),
    );
  }
  return {
    setup: `pool max ${max}, findExhaustion(sendRequest, ${requests.length}), ${max - 1} requests keeping their ` +
      "connection: the pool never runs dry",
    max,
    held: 0,
    maxRequests: requests.length,
    acquireTimeoutMs: random.int(80, 250),
    requests,
  };
}

/** A sendRequest() that records what each call got, and how many ran at once, for the checkpoint to compare. */
function recordingSender(send: (call: number) => Promise<unknown>) {
  const calls: { error?: unknown; value?: unknown; settled: boolean }[] = [];
  let inFlight = 0;
  let mostAtOnce = 0;
  const sendRequest = async () => {
    const call: { error?: unknown; value?: unknown; settled: boolean } = { settled: false };
    calls.push(call);
    mostAtOnce = Math.max(mostAtOnce, ++inFlight);
    try {
      return call.value = await send(calls.length - 1);
    } catch (error) {
      call.error = error;
      throw error;
    } finally {
      call.settled = true;
      inFlight--;
    }
  };
  return { calls, sendRequest, mostAtOnce: () => mostAtOnce };
}

/** "request 3 (TypeError: …)" for a message. */
function requestWithError(calls: { error?: unknown }[], request: number): string {
  return `${request} (${describeError(calls[request - 1]?.error)})`;
}

/**
 * Opens `count` connections up front (and returns them), so no request of the
 * scenario waits for a new connection: on a busy machine a connect can take
 * longer than a short acquire timeout. A slow connect is simply tried again.
 * Returns how many leases it took.
 */
async function prewarm(pool: TracedPool, count: number): Promise<number> {
  const leases: Lease[] = [];
  try {
    for (let tries = 0; leases.length < count && tries < 5 * count; tries++) {
      await pool.acquire().then((lease) => leases.push(lease), () => {});
    }
  } finally {
    for (const lease of leases) lease.release();
  }
  return leases.length;
}

async function judge(scenario: Scenario): Promise<void> {
  const expected = expectedOf(scenario);
  const faults = scenario.faults ? new FaultSchedule(scenario.faults) : undefined;
  const { setup } = scenario;
  const pool = checkpointPool("step01", { max: scenario.max, acquireTimeoutMs: scenario.acquireTimeoutMs });
  const heldElsewhere: Lease[] = [];
  try {
    await prewarm(pool, scenario.max);
    for (let i = 0; i < scenario.held; i++) heldElsewhere.push(await pool.acquire());
    const { calls, sendRequest, mostAtOnce } = recordingSender((call) =>
      faults
        ? badQueryWithLeak(pool, faults)
        : send(pool, scenario.requests![call] ?? { kind: call % 2 ? "ok" : "ok-void" })
    );
    const found = await findExhaustion(sendRequest, scenario.maxRequests);
    // Requests the learner's code started but did not wait for still get to finish: their connections are the pool's.
    for (let i = 0; i < 50 && calls.some((call) => !call.settled); i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const exhaustedAt = calls.findIndex((call) => call.error instanceof PoolExhaustedError) + 1;
    const failures = (upTo: number) =>
      calls.slice(0, upTo).flatMap((
        call,
        i,
      ) => (call.error !== undefined && !(call.error instanceof PoolExhaustedError) ? [i + 1] : []));

    step.expect(
      mostAtOnce() === 1,
      () =>
        `findExhaustion() had up to ${mostAtOnce()} requests in flight at once (${setup}). Send them one after ` +
        'another, awaiting each, as the scenario does: only then is "the first request that found the pool ' +
        'exhausted" well defined, and only then can you stop sending at the outage.',
    );

    if (expected.request === 0) {
      step.expect(
        found === undefined,
        () =>
          `findExhaustion() reported request ${found?.request} as exhausted (${setup}), but no request found the ` +
          `pool exhausted: request ${found?.request} ` +
          (calls[(found?.request ?? 0) - 1]?.error === undefined
            ? "succeeded"
            : `failed with ${
              describeError(calls[(found?.request ?? 0) - 1]?.error)
            }, which is not a PoolExhaustedError`) +
          ". Return `undefined` when no request found the pool exhausted.",
      );
      step.expect(
        calls.length === scenario.maxRequests,
        () =>
          `findExhaustion(sendRequest, ${scenario.maxRequests}) should send all ${scenario.maxRequests} requests ` +
          `when none finds the pool exhausted (${setup}); it sent ${calls.length}.` +
          (calls.length < scenario.maxRequests ? " Request maxRequests is the last one to send." : ""),
      );
      return;
    }

    step.expect(
      found !== undefined || exhaustedAt !== 0 || calls.length >= expected.request,
      () =>
        `findExhaustion() returned \`undefined\` after ` +
        `sending ${calls.length} request(s) (${setup}), but the pool runs dry at request ${expected.request}` +
        (expected.request === scenario.maxRequests
          ? `: findExhaustion(sendRequest, ${scenario.maxRequests}) may send requests 1 to ${scenario.maxRequests}, ` +
            `and the last of them, request ${expected.request}, is the one that finds it exhausted.`
          : "."),
    );
    step.expect(
      exhaustedAt === expected.request || (exhaustedAt === 0 && calls.length < expected.request),
      () =>
        `checkpoint bug: the pool should first be exhausted at request ${expected.request} (${setup}), but ` +
        `${exhaustedAt ? `it was at request ${exhaustedAt}` : "no request found it exhausted"}.`,
    );
    step.expect(
      found !== undefined,
      () =>
        `findExhaustion() returned \`undefined\` (${setup}), but the pool ran dry at request ${expected.request}: ` +
        `${calls.length} request(s) were sent and request ${expected.request} got ` +
        `${describeError(calls[expected.request - 1]?.error)}.` +
        (expected.request === 1
          ? " Other code held every connection before the first request, so the very first one found the pool " +
            "exhausted, with no failure before it."
          : ""),
    );
    step.expect(
      !(found.request === calls.length - 1 && exhaustedAt === calls.length),
      () =>
        `findExhaustion() reported request ${found.request}, but that was call number ${calls.length} of ` +
        `sendRequest(): every call of sendRequest() is a request, and requests are numbered from 1, so the first ` +
        `call is request 1 and the exhausted one is request ${calls.length} (${setup}).`,
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
        `(${setup}): ${calls.length - found.request} call(s) more than there were requests, so some were sent ` +
        "more than once. Call sendRequest() exactly once per request and do not retry a failed one: a failed " +
        "request is a failed request, and one that failed may have kept a connection.",
    );
    const got = calls[found.request - 1];
    step.expect(
      got?.error === undefined || got.error instanceof PoolExhaustedError,
      () => {
        const error = got?.error;
        const code = sqlstate(error);
        const what = code === "57014"
          ? "that is a query failure, not exhaustion — the cause of the leak, not the outage"
          : code
          ? `that is a query failure (SQLSTATE ${code}), not exhaustion: it is not a PoolExhaustedError`
          : "that is not a PoolExhaustedError: an ordinary failure with no SQLSTATE, not the outage" +
            (/exhaust/i.test(error instanceof Error ? error.message : String(error))
              ? ", whatever its message says"
              : "");
        return `findExhaustion() reported request ${found.request} as the first exhausted one (${setup}), but ` +
          `request ${found.request} failed with ${describeError(error)}: ${what}. The pool was first exhausted at ` +
          `request ${expected.request}.`;
      },
    );
    step.expect(
      found.request === expected.request,
      () =>
        `findExhaustion() reported request ${found.request} (${setup}), but the pool was first exhausted at ` +
        `request ${expected.request}` +
        (got?.error === undefined ? `; request ${found.request} succeeded` : "") +
        (exhaustedAt > 0 && exhaustedAt < found.request
          ? `: request ${exhaustedAt} already found it exhausted (${describeError(calls[exhaustedAt - 1].error)})` +
            (expected.failed.length === 0
              ? ", with no failure before it: the pool can be dry before any of your requests fails"
              : "") +
            ", so report the first one."
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
    const failedBefore = failures(found.request - 1);
    step.expect(
      Array.isArray(found.failedBefore),
      () => `findExhaustion() gave failedBefore = ${shown(found.failedBefore)} (${setup}): it should be an array.`,
    );
    step.expect(
      !found.failedBefore.includes(found.request),
      () =>
        `findExhaustion() gave failedBefore = [${found.failedBefore}] (${setup}), which includes request ` +
        `${found.request} itself, the exhausted one. failedBefore lists the requests that failed before the ` +
        `outage: ${listOf(failedBefore)}.`,
    );
    step.expect(
      JSON.stringify(found.failedBefore) === JSON.stringify(failedBefore),
      () => {
        const missing = failedBefore.filter((r) => !found.failedBefore.includes(r));
        const extra = found.failedBefore.filter((r) => !failedBefore.includes(r));
        const parts = [
          ...(missing.length
            ? [
              `it leaves out ${listOf(missing.map((r) => requestWithError(calls, r)), 4)}: failedBefore lists every ` +
              "request that failed before the outage, whatever it failed with",
            ]
            : []),
          ...(extra.length
            ? [
              `it includes ${listOf(extra)}, ` +
              (extra.every((r) => calls[r - 1] && calls[r - 1].error === undefined)
                ? `which succeeded (resolving with ${
                  listOf(extra.map((r) => shown(calls[r - 1].value, 20)), 3)
                }): a request failed only when sendRequest() rejected`
                : "which did not fail before the outage"),
            ]
            : []),
          ...(!missing.length && !extra.length ? ["list them once each, in the order they were sent"] : []),
        ];
        return `findExhaustion() gave failedBefore = [${found.failedBefore}] (${setup}), but the requests that ` +
          `failed before the exhaustion were ${listOf(failedBefore)}: ${parts.join("; ")}.`;
      },
    );
    step.expect(
      JSON.stringify(failedBefore) === JSON.stringify(expected.failed),
      () =>
        `The scenario's requests should fail at ${listOf(expected.failed)} but failed at ` +
        `${listOf(failedBefore)}: call sendRequest() exactly once per request.`,
    );

    const backends = await backendsOf(pool.name);
    step.expect(
      backends.length === scenario.max && backends.every((b) => b.state === "idle"),
      () =>
        `At the exhaustion Postgres should show all ${scenario.max} connections of the pool held and idle, but ` +
        `pg_stat_activity shows ${backends.length}: ${backends.map((b) => b.state).join(", ")}.`,
    );
  } finally {
    for (const lease of heldElsewhere) lease.release();
    await pool.end();
  }
}

const README_SCENARIO: Scenario = {
  setup: "pool max 5, every 2nd query fails, leaking handler",
  max: 5,
  held: 0,
  maxRequests: 20,
  acquireTimeoutMs: 300,
  faults: { failEvery: 2 },
};

Deno.test(step.test("findExhaustion() names the first request that found the pool exhausted", async () => {
  await judge(README_SCENARIO);
  const random = step.random("scenarios");
  for (const scenario of [mixedFailures(random), dryFromTheStart(random)]) await judge(scenario);
}));

Deno.test(step.test("findExhaustion() returns undefined when the pool never runs dry", async () => {
  const random = step.random("never dry");
  await judge(neverDry(random));
  const maxRequests = random.int(6, 12);
  const faults = new FaultSchedule({ failEvery: random.int(2, 3) });
  const pool = checkpointPool("step01", { max: 3 });
  try {
    await prewarm(pool, 3);
    const { calls, sendRequest } = recordingSender(() => goodQueryNoLeak(pool, faults));
    const found = await findExhaustion(sendRequest, maxRequests);
    step.expect(
      found === undefined,
      () =>
        `With the fixed handler (${faults.description}, each connection returned) nothing is exhausted, but ` +
        `findExhaustion() reported request ${found?.request} (which got ${
          describeError(calls[(found?.request ?? 1) - 1]?.error)
        }). Return \`undefined\` when no request found the pool exhausted.`,
    );
    step.expect(
      calls.length === maxRequests,
      () =>
        `findExhaustion(sendRequest, ${maxRequests}) should send all ${maxRequests} requests when none is ` +
        `exhausted; it sent ${calls.length}.` +
        (calls.length < maxRequests ? " Request maxRequests is the last one to send." : ""),
    );
  } finally {
    await pool.end();
  }
}));

/**
 * Checkpoint of step 3: `listSensors()` returns its connection on every path,
 * within its request, and only once its query has finished. Judged by
 * behaviour, lease by lease: the rows against Postgres, the scheduled
 * failures with their real SQLSTATE, the pool's counters, every trace (when
 * each connection was taken, queried and given back, and by whom),
 * concurrent requests, and pg_stat_activity.
 *
 * The README's scenarios run first (the starter's message stays the one the
 * README quotes), then seeded ones that vary what the exercise never
 * promises: the pool's size, how many requests and which of them fail, an
 * empty table, how many requests run at once and how they interleave.
 */
import { sqlstate } from "leak-lab/database.ts";
import { FaultSchedule, SENSOR_QUERY } from "leak-lab/demo/fault_schedule.ts";
import { type RequestOutcome, runRequests } from "leak-lab/demo/request_series.ts";
import { type Lease, LeaseReleasedError, PoolExhaustedError, type TracedPool } from "leak-lab/pool.ts";
import { type Checkpoint, checkpoint } from "leak-lab/workshop/checkpoint.ts";
import {
  describeError,
  failedAcquires,
  firstSentence,
  handedOutWhileBusy,
  isDatabaseError,
  leaseBalance,
  leaseLedger,
  type LeaseRecord,
  leaseTimelines,
  listOf,
  ms,
  queryErrorCodes,
  queryErrorMessages,
  queryFailedIn,
  runConcurrentRequests,
  settle,
  settledBackends,
  shown,
  spanEndedAt,
  thrownAt,
  traceOf,
  traceStartedAt,
  unhandledRejections,
} from "leak-lab/workshop/checkpoint_checks.ts";
import { adminQuery, checkpointPool } from "leak-lab/workshop/checkpoint_database.ts";
import { recordingTracer } from "leak-lab/workshop/recording_tracer.ts";
import type { SeededRandom } from "leak-lab/workshop/checkpoint_seed.ts";
import type { InMemorySpanExporter } from "@opentelemetry/sdk-trace-base";
import { listSensors } from "./list_sensors.ts";

const step: Checkpoint = checkpoint({ edit: "list_sensors.ts" });

/** The faults of one request: its first query fails when it is scheduled to, no other query does. */
class RequestFaults extends FaultSchedule {
  #fail: boolean;
  constructor(fail: boolean) {
    super({ failEvery: 0 });
    this.#fail = fail;
  }
  override next(): boolean {
    const fail = this.#fail;
    this.#fail = false;
    return fail;
  }
}

/** One run of requests: what it holds fixed, drawn from the seed except for the README's own. */
interface Scenario {
  /** "" for the README's scenario; else how messages introduce it. */
  label: string;
  max: number;
  requests: number;
  /** The requests (1-based) whose query fails. */
  fails: number[];
  /** How the failures read in a message: "every 3rd query failing". */
  failing: string;
  /** The sensors table is empty (the pool's connections see an empty view of it). */
  empty: boolean;
  /** The SQLSTATE the failing queries fail with: 57014 (statement timeout), or 55P03 (lock timeout). */
  code: string;
  /** Every connection of the pool is held elsewhere: each request's acquire() throws PoolExhaustedError. */
  busy: boolean;
  /** Requests at once (0: one after another). */
  together: number;
  /** When each request starts, for requests at once (ms after the first). */
  delays: number[];
}

function everyNth(n: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => i + 1).filter((r) => r % n === 0);
}

const ERRORS: Record<string, string> = { "57014": "statement timeout", "55P03": "lock timeout" };

function failingText(fails: readonly number[], requests: number, code = "57014"): string {
  const how = code === "57014" ? "" : ` with SQLSTATE ${code} (${ERRORS[code]})`;
  if (fails.length === 0) return "no query failing";
  if (fails.length === requests) return `every query failing${how}`;
  return `the queries of request${fails.length === 1 ? "" : "s"} ${listOf(fails, 12)} failing${how}`;
}

/** A seeded scenario of requests one after another. */
function seededSeries(random: SeededRandom, label: string, empty: boolean): Scenario {
  const max = random.pick([2, 3, 4]);
  const requests = empty ? max + 2 : max * 2 + random.int(2, 4);
  // An empty table leaves the failing query nothing to sleep on: it cannot fail there.
  let fails: number[] = [];
  if (!empty) {
    do fails = random.sample(random.int(2, Math.floor(requests / 2)), 1, requests); while (
      // not the README's pattern, and a success right after some failure
      fails.every((r) => r % 3 === 0) || !fails.some((r) => r < requests && !fails.includes(r + 1))
    );
  }
  // Where the table has rows, the failures are another real error: a lock timeout (SQLSTATE 55P03).
  const code = empty ? "57014" : "55P03";
  const failing = failingText(fails, requests, code);
  return { label, max, requests, fails, failing, empty, code, busy: false, together: 0, delays: [] };
}

/** A seeded scenario where something else holds every connection of the pool. */
function seededBusy(random: SeededRandom, label: string): Scenario {
  const max = random.pick([1, 2, 3]);
  const requests = 2;
  const failing = "every connection held by someone else";
  return { label, max, requests, fails: [], failing, empty: false, code: "57014", busy: true, together: 0, delays: [] };
}

/** A seeded scenario of requests at once on a pool of 2 or 3. */
function seededTogether(random: SeededRandom, label: string): Scenario {
  const max = random.pick([2, 3]);
  const requests = max + random.int(2, 3);
  let fails: number[];
  do fails = random.sample(random.int(1, requests - 1), 1, requests); while (fails.every((r) => r % 2 === 0));
  // The first two start together, so at least two are in flight at once; the others join over a few ms.
  const delays = Array.from({ length: requests }, (_, i) => (i < 2 ? 0 : random.int(0, 12)));
  return {
    label,
    max,
    requests,
    fails,
    failing: failingText(fails, requests),
    empty: false,
    code: "57014",
    busy: false,
    together: requests,
    delays,
  };
}

function describeScenario(s: Scenario): string {
  const how = s.together
    ? `${s.requests} requests at once${s.delays.some((d) => d > 0) ? ", staggered over a few ms" : ""}`
    : `${s.requests} requests one after another`;
  return `pool max ${s.max}, ${how}, ${s.failing}${s.empty ? ", the sensors table empty" : ""}`;
}

/** Says what a request did: "succeeded", or "failed with …". */
function did(outcome: RequestOutcome<unknown>): string {
  return outcome.ok ? "succeeded" : `failed with ${describeError(outcome.error)}`;
}

/** "failed with TypeError: … (thrown at list_sensors.ts:21)" for an error the learner's code threw. */
function didAt(outcome: RequestOutcome<unknown>): string {
  if (outcome.ok || sqlstate(outcome.error) || outcome.error instanceof PoolExhaustedError) return did(outcome);
  const at = thrownAt(outcome.error, step.file);
  return `${did(outcome)}${at ? ` (thrown at ${at})` : ""}`;
}

/**
 * A schema whose `sensors` is a view of the real table, for the pool's connections: empty, or one where the query
 * the schedule fails (it sets a 5 ms statement timeout) fails with SQLSTATE 55P03 instead. Dropped by `drop()`.
 */
async function sensorsView(kind: "empty" | "55P03"): Promise<{ schema: string; drop(): Promise<void> }> {
  const schema = `leaklab_step03_${crypto.randomUUID().slice(0, 8)}`;
  await adminQuery(`CREATE SCHEMA ${schema}`);
  if (kind === "empty") {
    await adminQuery(`CREATE VIEW ${schema}.sensors AS SELECT * FROM public.sensors WHERE false`);
  } else {
    await adminQuery(
      `CREATE FUNCTION ${schema}.lock_wait() RETURNS boolean LANGUAGE plpgsql AS $$ BEGIN ` +
        "IF current_setting('statement_timeout') = '5ms' THEN " +
        "RAISE EXCEPTION 'canceling statement due to lock timeout' USING ERRCODE = '55P03'; END IF; " +
        "RETURN true; END $$",
    );
    await adminQuery(`CREATE VIEW ${schema}.sensors AS SELECT * FROM public.sensors WHERE ${schema}.lock_wait()`);
  }
  return { schema, drop: async () => void await adminQuery(`DROP SCHEMA IF EXISTS ${schema} CASCADE`) };
}

/** Runs one scenario on a fresh pool and judges every lease, every request and the pool afterwards. */
async function runScenario(s: Scenario): Promise<void> {
  const { tracer, exporter } = recordingTracer();
  const view = s.empty ? await sensorsView("empty") : s.code !== "57014" ? await sensorsView("55P03") : undefined;
  const pool = checkpointPool(s.together ? "step03-together" : "step03", {
    max: s.max,
    tracer,
    // The README's scenario keeps its 300 ms; the seeded ones wait long enough to open a connection on a busy machine.
    acquireTimeoutMs: s.together ? 2_000 : s.busy ? 150 : s.label ? 1_000 : 300,
    ...(view ? { options: `-c search_path=${view.schema}` } : {}),
  });
  const rows = s.empty ? "[]" : JSON.stringify(await adminQuery(SENSOR_QUERY));
  const faults = Array.from({ length: s.requests + 1 }, (_, r) => new RequestFaults(s.fails.includes(r)));
  const rejections = unhandledRejections();
  const held: Lease[] = [];
  try {
    for (let i = 0; (s.busy || view) && i < s.max; i++) held.push(await pool.acquire());
    if (view) {
      // Each backend reads the view once (plans it, loads PL/pgSQL) before the 5 ms timeout matters.
      for (const lease of held) await lease.query("SELECT count(*) FROM sensors");
      if (!s.busy) { for (const lease of held.splice(0)) lease.release(); }
    }
    const send = (request: number) => listSensors(pool, faults[request]);
    const outcomes = s.together
      ? await runConcurrentRequests({ tracer, count: s.requests, send, delayMs: (r) => s.delays[r - 1] ?? 0 })
      : await runRequests({ tracer, root: true, count: s.requests, send });
    for (const lease of held.splice(0)) lease.release();
    await settle([pool], 300); // a release deferred to a timer lands, so the message can say when
    judge(s, outcomes, exporter, pool, rows, rejections.stop());
    const backends = await settledBackends(pool);
    step.expect(
      backends.length === pool.stats().total && backends.every((b) => b.state === "idle"),
      () =>
        `${intro(s)}pg_stat_activity should show the pool's ${pool.stats().total} open connection(s), all idle; ` +
        `it shows ${backends.length}: ${backends.map((b) => b.state).join(", ") || "none"}.`,
    );
  } finally {
    for (const lease of held) lease.release();
    rejections.stop();
    await pool.end();
    await view?.drop();
  }
}

function intro(s: Scenario): string {
  return s.label ? `In ${s.label} (${describeScenario(s)}): ` : "";
}

function judge(
  s: Scenario,
  outcomes: RequestOutcome<unknown[]>[],
  exporter: InMemorySpanExporter,
  pool: TracedPool,
  databaseRows: string,
  rejected: unknown[],
): void {
  const spans = exporter.getFinishedSpans();
  const byTrace = new Map(outcomes.map((o) => [o.traceId, o]));
  const ledger = leaseLedger(spans).filter((lease) => byTrace.has(lease.traceId)); // not the checkpoint's own
  const requestOf = (traceId: string) => byTrace.get(traceId)?.request ?? 0;
  const stats = pool.stats();
  const exhausted = outcomes.filter((o) => o.error instanceof PoolExhaustedError).map((o) => o.request);
  const start = Math.min(...outcomes.map((o) => traceStartedAt(spans, o.traceId)));
  const pre = intro(s);
  const summary = `After ${s.requests} requests${
    s.label ? "," : ` (pool max ${s.max}, every 3rd query failing)`
  } ${stats.active} connection(s) were out, ${stats.leaked} detected as leaked, and ${
    exhausted.length === 0
      ? "no request found the pool exhausted"
      : `request${exhausted.length === 1 ? "" : "s"} ${listOf(exhausted)} found the pool exhausted`
  }.`;
  const requestEnd = (traceId: string) =>
    spanEndedAt(spans, traceId, "list_sensors") ?? spanEndedAt(spans, traceId, "request")!;

  // A rejection nobody handled: a promise the code started and let go.
  if (rejected.length > 0) {
    const [reason] = rejected;
    const at = thrownAt(reason, step.file);
    step.fail(
      `${pre}A promise rejected and nothing handled it: ${describeError(reason)}${at ? ` (from ${at})` : ""}. ` +
        `In a server an unhandled rejection ends the whole process. A promise the code makes — a query, a ` +
        "`.then()`/`.finally()` chained on one — must be awaited or returned, so its failure reaches the caller.",
    );
  }

  // A connection given back by a request that did not take it: requests shared where they keep their lease.
  for (const lease of ledger) {
    const foreign = lease.returns.find((r) => r.traceId !== lease.traceId);
    if (!foreign) continue;
    const giver = requestOf(foreign.traceId);
    const taker = requestOf(lease.traceId);
    const own = ledger.find((other) => other.traceId === foreign.traceId && other !== lease);
    step.fail(
      `${pre}Request ${giver} gave back a connection it did not take: #${lease.leaseId}, which request ${taker} ` +
        "had taken" +
        (foreign.at < lease.busyUntil
          ? ` and whose query was still running (until ${ms(lease.busyUntil - start)}; it came back at ` +
            `${ms(foreign.at - start)})`
          : "") +
        (own
          ? `; request ${giver}'s own connection #${own.leaseId} ${
            own.returns.length ? `came back from request ${requestOf(own.returns[0].traceId)}` : "never came back"
          }`
          : "") +
        ". Each request must give back the connection it took itself: with several requests in flight, a place " +
        "that every call of listSensors() shares holds only the connection taken last.",
    );
  }

  // Given back while its query still ran: `finally` ran before the query finished.
  for (const lease of ledger) {
    const [back] = lease.returns;
    if (!back || back.at >= lease.busyUntil) continue;
    step.fail(
      `${pre}Request ${requestOf(lease.traceId)} gave its connection (#${lease.leaseId}) back to the pool before ` +
        `its query finished: in its trace, connection_returned_safely comes at ${ms(back.at - start)} and the ` +
        `database.query span ends at ${ms(lease.busyUntil - start)}. The connection went back while the query ` +
        "still ran, so the next request can be handed a busy connection. A `return` of the query's promise " +
        "without `await` ends the block at once: `finally` (or `await using`) gives the connection back before " +
        "the query is done.",
    );
  }

  // The pool itself refuses a second release(), and a query on a returned connection.
  const refused = outcomes.find((o) => o.error instanceof LeaseReleasedError);
  if (refused) {
    const twice = /called twice/.test((refused.error as Error).message);
    const lost = s.busy
      ? "the pool's PoolExhaustedError"
      : s.fails.includes(refused.request)
      ? `its real error (SQLSTATE ${s.code})`
      : "its rows";
    const tookNone = !ledger.some((lease) => lease.traceId === refused.traceId);
    step.expect(
      !(twice && tookNone),
      () =>
        `${pre}Request ${refused.request} took no connection${
          s.busy ? " (every one was held elsewhere, so acquire() threw)" : ""
        }, yet it released a connection it did not take: release() on an earlier request's connection, already ` +
        `given back, threw LeaseReleasedError ("${firstSentence(refused.error)}"), and that error replaced ${lost}. ` +
        "A request may release only the connection it took itself, and only when it took one: does a variable " +
        "that every call shares still hold an earlier request's connection?",
    );
    step.fail(
      twice
        ? `${pre}Request ${refused.request} released its connection twice: the second release() threw ` +
          `LeaseReleasedError ("${firstSentence(refused.error)}"), and that error replaced ${lost}. Release the ` +
          "connection exactly once, in one place that every path goes through."
        : `${pre}Request ${refused.request} failed with ${describeError(refused.error)}: its connection was given ` +
          "back before its query used it. Release it after the query.",
    );
  }

  // Connections that never came back, worded by the path that kept them.
  const kept = ledger.filter((lease) => lease.returns.length === 0);
  const outcomeOf = (lease: LeaseRecord) => byTrace.get(lease.traceId);
  const failedQuery = (o: RequestOutcome<unknown>) => !o.ok && sqlstate(o.error) !== undefined;
  const failedGaveBack = ledger.some((lease) => lease.returns.length > 0 && failedQuery(outcomeOf(lease)!));
  const keptOnFailure = kept.filter((lease) => failedQuery(outcomeOf(lease)!));
  const keptOnSuccess = kept.filter((lease) => outcomeOf(lease)!.ok);
  if (kept.length > 0) {
    const lease = keptOnFailure.length === 0 && keptOnSuccess.length > 0 ? keptOnSuccess[0] : kept[0];
    const outcome = outcomeOf(lease)!;
    const rowCount = Array.isArray(outcome.value) ? outcome.value.length : 0;
    if (outcome.ok && keptOnFailure.length === 0 && failedGaveBack) {
      step.fail(
        `${pre}Request ${outcome.request} succeeded and kept its connection (#${lease.leaseId}): its trace has ` +
          "connection_acquired but no connection_returned_safely. The requests that failed gave theirs back, the " +
          "successful path now leaks instead: releasing only when the query throws covers the error path alone. " +
          summary,
      );
    }
    if (outcome.ok) {
      step.fail(
        `${pre}Request ${outcome.request} succeeded with ${rowCount} row(s) and kept its connection ` +
          `(#${lease.leaseId}): its trace has connection_acquired but no connection_returned_safely` +
          (s.empty
            ? ". In this scenario the sensors table is empty, and the same code gave its connection back when " +
              "the query returned rows: a path taken only when there are no rows skips the release. "
            : ". ") +
          summary,
      );
    }
    const otherError = failedQuery(outcome) && sqlstate(outcome.error) !== "57014"
      ? `The same code gave its connection back when the query failed with SQLSTATE 57014 (statement timeout): ` +
        `the path out for this other error (SQLSTATE ${sqlstate(outcome.error)}) skips the release. `
      : "";
    step.fail(
      `${pre}Request ${outcome.request} ${didAt(outcome)} and its connection never came back: its trace has ` +
        `get_connection → connection_acquired for lease #${lease.leaseId} but no return_connection → ` +
        `connection_returned_safely. ${otherError}${summary}`,
    );
  }

  // Given back, but only after its request had ended: deferred to a timer or a callback nobody awaited.
  for (const lease of ledger) {
    const [back] = lease.returns;
    const ended = requestEnd(lease.traceId);
    if (!back || back.at <= ended + 0.05) continue;
    const outcome = outcomeOf(lease)!;
    step.fail(
      `${pre}Request ${outcome.request} ${did(outcome)}, and gave its connection (#${lease.leaseId}) back only ` +
        `${ms(back.at - ended)} after the request had ended: connection_returned_safely comes after its ` +
        "list_sensors span ends. Until then the connection was out of the pool with nobody using it, and the " +
        "pool counted it as leaked when the request ended. A release put off until later (a timer, a callback " +
        "nothing waits for) does not happen on the request's path: give it back before listSensors() settles.",
    );
  }

  for (const outcome of outcomes) {
    if (s.busy) {
      step.expect(
        outcome.error instanceof PoolExhaustedError && outcome.error.poolName === pool.name,
        () =>
          `${pre}Every connection of the pool was held by someone else, so pool.acquire() threw ` +
          `PoolExhaustedError, and request ${outcome.request} must fail with that error, unchanged. It ` +
          `${didAt(outcome)}` +
          (!outcome.ok && failedAcquires(spans, outcome.traceId).length > 0 &&
              !(outcome.error instanceof PoolExhaustedError)
            ? ": that error was thrown after acquire() had failed, by code that ran with no connection taken, " +
              "and it replaced the pool's error."
            : "."),
      );
    } else if (s.fails.includes(outcome.request)) {
      // The error its query really raised: 55P03 here, or 57014 should Postgres time the query out first.
      const code = queryErrorCodes(spans, outcome.traceId)[0] ?? s.code;
      step.expect(
        !outcome.ok && sqlstate(outcome.error) === code,
        () =>
          `${pre}Request ${outcome.request} is scheduled to fail: its query must still fail and the request with ` +
          `it, with the real error (SQLSTATE ${code}, ${ERRORS[code] ?? "its query's error"}). It ` +
          (!outcome.ok
            ? `${didAt(outcome)}. Fix the leak, not the error: let the real error reach the caller.`
            : queryFailedIn(spans, outcome.traceId)
            ? `returned ${shown(outcome.value)} instead: its query failed, but the error was caught and swallowed, ` +
              "so the caller never learns the request failed. Fix the leak, not the error: let the error reach the " +
              "caller."
            : `returned ${shown(outcome.value)} instead: its query never failed, so it did not run through ` +
              "readSensors(conn, faults), which is what makes the scheduled queries fail."),
      );
      const raised = queryErrorMessages(spans, outcome.traceId);
      step.expect(
        isDatabaseError(outcome.error) &&
          (raised.length === 0 || raised.includes((outcome.error as Error).message)),
        () =>
          `${pre}Request ${outcome.request} failed with SQLSTATE ${code}, but not with the error its query raised: ` +
          `the caller got ${outcome.error instanceof Error ? outcome.error.constructor.name : typeof outcome.error} "${
            firstSentence(outcome.error)
          }", while pg threw a DatabaseError` +
          (raised.length ? ` "${raised[0].split("\n")[0]}"` : "") +
          ". A new error carrying the code is a copy: it loses pg's class, its other fields (severity, detail, " +
          "where) and its stack. Fix the leak, not the error: let the very error reach the caller.",
      );
    } else {
      step.expect(
        outcome.ok,
        () =>
          `${pre}Request ${outcome.request} is not scheduled to fail, but it ${didAt(outcome)}.` +
          (outcome.error instanceof PoolExhaustedError ? ` ${summary}` : ""),
      );
      step.expect(
        JSON.stringify(outcome.value) === databaseRows,
        () =>
          `${pre}Request ${outcome.request} returned ${
            Array.isArray(outcome.value) ? `${outcome.value.length} row(s)` : shown(outcome.value)
          } that differ from what Postgres has for "${SENSOR_QUERY}"${
            s.empty ? " (no rows: the table is empty here)" : ""
          }. listSensors() must return readSensors()' rows.`,
      );
    }
  }
  step.expect(stats.active === 0 && stats.leaked === 0, () => `${pre}Connections are still out. ${summary}`);

  for (const outcome of outcomes) {
    step.expect(
      traceOf(spans, outcome.traceId).some((span) => span.name === "list_sensors"),
      () =>
        `${pre}Request ${outcome.request}'s trace has no list_sensors span: keep the ` +
        'pool.scope("list_sensors", …) around the handler, it is what lets the pool tell a leak.',
    );
    const { acquired } = leaseBalance(spans, outcome.traceId);
    step.expect(
      acquired.length === (s.busy ? 0 : 1),
      () =>
        `${pre}Request ${outcome.request}'s trace should show one connection taken (connection_acquired) and ` +
        `given back (connection_returned_safely) within the request; it shows ${acquired.length} taken.`,
    );
  }

  if (s.together && s.max === 1) {
    const timelines = outcomes.flatMap((o) => leaseTimelines(spans, o.traceId));
    const overlap = handedOutWhileBusy(timelines);
    step.expect(
      overlap === undefined,
      () =>
        `${pre}Request ${requestOf(overlap!.later.traceId)} was handed the pool's only connection (lease ` +
        `#${overlap!.later.leaseId}) at ${ms(overlap!.later.acquiredAt - start)} while request ` +
        `${requestOf(overlap!.earlier.traceId)}'s query on that same connection was still running (until ` +
        `${ms(overlap!.earlier.busyUntil - start)}): the connection went back to the pool before its query ` +
        "finished. Give it back only once the query is done.",
    );
  }
}

const README_SERIES: Scenario = {
  label: "",
  max: 5,
  requests: 20,
  fails: everyNth(3, 20),
  failing: "every 3rd query failing",
  empty: false,
  code: "57014",
  busy: false,
  together: 0,
  delays: [],
};

Deno.test(step.test("listSensors() returns its connection on every path, over requests one after another", async () => {
  const random = step.random("step03 series");
  await runScenario(README_SERIES);
  await runScenario(seededSeries(random, "a seeded scenario", false));
  await runScenario(seededSeries(random, "a seeded scenario with an empty table", true));
  await runScenario(seededBusy(random, "a seeded scenario with the pool busy"));
}));

Deno.test(step.test("listSensors() returns its own connection, after its query, with requests at once", async () => {
  const random = step.random("step03 together");
  await runScenario({
    label: "the README's scenario of requests at once",
    max: 1,
    requests: 4,
    fails: [2, 4],
    failing: "every 2nd query failing",
    empty: false,
    code: "57014",
    busy: false,
    together: 4,
    delays: [],
  });
  await runScenario(seededTogether(random, "a seeded scenario of requests at once"));
}));

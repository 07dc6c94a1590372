/**
 * Checkpoint of step 4b: `sensor_dashboard.ts` is clean under
 * `leak-lab/release-on-every-path`, run over the file as it is (its
 * `deno-lint-ignore` comments count for nothing), and it still does what it
 * did. Every function returns what Postgres has, every failure still fails
 * with its real SQLSTATE, and every connection comes back: after its query,
 * before the call settles (not from a timer later), once, and outside any
 * transaction. Judged by the rule, then by each call's
 * trace, the pool's counters and pg_stat_activity.
 *
 * The calls run in three scenarios: the README's (a pool of 3, one call at a
 * time, every query of a failing call fails), then two drawn from the seed,
 * each varying what the exercise does not promise: the pool's size, the calls'
 * order, their arguments (a time, a threshold, a time Postgres cannot read),
 * which query fails (only the first, so a retry would answer), a connection
 * handed over inside a failed transaction (so any statement, a `BEGIN` or
 * `hotSensors()`' query included, fails with SQLSTATE 25P02), and every call
 * at once on a pool too small for them (so calls wait).
 */
import { sqlstate } from "leak-lab/database.ts";
import { FAILING_SENSOR_QUERY, FaultSchedule, SENSOR_QUERY } from "leak-lab/demo/fault_schedule.ts";
import { type RequestOutcome, runRequests } from "leak-lab/demo/request_series.ts";
import { LeaseReleasedError, PoolEndedError, PoolExhaustedError, type TracedPool } from "leak-lab/pool.ts";
import { eventually } from "leak-lab/util/eventually.ts";
import { type Checkpoint, checkpoint } from "leak-lab/workshop/checkpoint.ts";
import {
  describeError,
  eventsNamed,
  firstSentence,
  leaseBalance,
  leaseTimelines,
  listOf,
  ms,
  queryFailedIn,
  returnedWhileBusy,
  runConcurrentRequests,
  settle as settleLeases,
  shown,
  spanEndedAt,
  traceOf,
  traceStartedAt,
} from "leak-lab/workshop/checkpoint_checks.ts";
import { adminQuery, backendsOf, checkpointPool } from "leak-lab/workshop/checkpoint_database.ts";
import { type LeakFinding, leakIgnoreComments, lintLeaks } from "leak-lab/workshop/lint_findings.ts";
import { recordingTracer } from "leak-lab/workshop/recording_tracer.ts";
import type { SeededRandom } from "leak-lab/workshop/checkpoint_seed.ts";
import { trace } from "@opentelemetry/api";
import type { InMemorySpanExporter, ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { hotSensors, latestReadings, newestReading, readingsSince, snapshotReport } from "./sensor_dashboard.ts";

const FILE = "sensor_dashboard.ts";
const step: Checkpoint = checkpoint({ edit: FILE });
const LINT = `deno lint --config workshop-steps/${step.step}/lint.json`;

/** One report as the learner reads it: where, the shape in workshop words, then the rule's own words. */
function describeFinding(finding: LeakFinding, n: number): string {
  const where = finding.inFunction ? `${finding.inFunction}, line ${finding.line}` : `line ${finding.line}`;
  return `${n}. ${where} — ${finding.words}:\n   ${finding.message}\n   The rule's hint: ${finding.hint}`;
}

Deno.test(step.test(`${FILE} passes leak-lab/release-on-every-path, with no deno-lint-ignore`, async () => {
  const source = await Deno.readTextFile(new URL(`./${FILE}`, import.meta.url));
  const findings = lintLeaks(FILE, source);
  const ignores = leakIgnoreComments(source);
  const count = `${findings.length} leak${findings.length === 1 ? "" : "s"}`;
  const list = findings.map((finding, i) => describeFinding(finding, i + 1)).join("\n");
  if (ignores.length > 0) {
    const comments = `${ignores.length} \`deno-lint-ignore\` comment${ignores.length === 1 ? "" : "s"}`;
    const texts = [...new Set(ignores.map((c) => `\`${c.text}\``))].join(", ");
    step.fail(
      `${FILE} has ${comments} for the rule (line${ignores.length === 1 ? "" : "s"} ${
        listOf(ignores.map((c) => c.line))
      }: ${texts}). An ignore ` +
        "comment hides the report from `deno lint`; it gives no connection back, and the path the report names is " +
        "still there. The checkpoint runs the rule without them" +
        (findings.length > 0
          ? `, and it still reports ${count}:\n\n${list}\n\nRemove the comments and fix what the rule says.`
          : ", and it finds nothing left to hide: remove the comments."),
    );
  }
  step.expect(
    findings.length === 0,
    () =>
      `leak-lab/release-on-every-path still reports ${count} in ${FILE} (\`${LINT}\` shows ` +
      `${findings.length === 1 ? "it with its" : "them with their"} code):\n\n${list}\n\nFix each function so it ` +
      "gives its connection back on every path, and keep what it returns and how it fails: the next check runs " +
      "them all against Postgres.",
  );
}));

/** One call of a dashboard function, and what it must do. */
interface Call {
  /** The call as messages show it, e.g. `readingsSince(pool, "last tuesday")`. */
  label: string;
  /** The function, e.g. `readingsSince()`. */
  fn: string;
  send: () => Promise<unknown>;
  /** A call that succeeds: whether its value is right, and what right is (for the message). */
  returns?: { check: (value: unknown) => boolean; what: string };
  /** A call that fails: the SQLSTATE it must fail with, its meaning, and why it fails. */
  fails?: { code: string; meaning: string; why: string };
  /** The checkpoint leaves the connection this call gets inside a failed transaction (SQLSTATE 25P02). */
  dirty?: boolean;
}

/** What one scenario holds; the first is the README's, the others are drawn from the seed. */
interface Scenario {
  /** "Scenario 2 of 3 (a pool of 1, …)": the start of every message about it. */
  name: string;
  max: number;
  since: string;
  threshold: number;
  /** A `since` Postgres cannot read as a time (SQLSTATE 22007). */
  badSince: string;
  /** Every query of a failing call fails, or only its first one (a retry would succeed). */
  failing: "every" | "first";
  /** Shuffles the calls; the README's scenario keeps their order. */
  order?: SeededRandom;
  /** Adds one call of each function on a connection left inside a failed transaction. */
  dirty: boolean;
  /** Every call at once, on a pool smaller than the calls: some wait for a connection. */
  concurrent: boolean;
}

const SINCE = "2026-01-01T04:50:00Z";
const THRESHOLD = 29.95;
/** Times Postgres cannot read: each fails with SQLSTATE 22007 (invalid datetime format). */
const BAD_TIMES = ["last tuesday", "yesterday at noon", "not a time", "soon", "2026-01-01 at five", "next week"];
/** The first and last statements of a snapshot (the `db.query.text` of its spans). */
const OPENS_SNAPSHOT = /^\s*(BEGIN|START\s+TRANSACTION)\b[^;]*\b(REPEATABLE\s+READ|SERIALIZABLE)\b/i;
const COMMITS = /^\s*(COMMIT|END)\b/i;
const ROLLS_BACK = /^\s*ROLLBACK\b/i;

/** A fault schedule that fails only the first query it is asked about: a call that retries would get an answer. */
class FirstQueryFails extends FaultSchedule {
  #asked = 0;
  constructor() {
    super({ failEvery: 0 });
  }
  override get description(): string {
    return "only the first query fails";
  }
  override next(): boolean {
    return ++this.#asked === 1;
  }
  override reset(): void {
    this.#asked = 0;
  }
}

/** The README's scenario, then two from the seed: every varied fact takes another value in each of those. */
async function scenarios(): Promise<Scenario[]> {
  const [{ first, last }] = await adminQuery<{ first: Date; last: Date }>(
    "SELECT min(recorded_at) AS first, max(recorded_at) AS last FROM sensors",
  );
  const drawn = (n: number, concurrent: boolean): Scenario => {
    const random = step.random(`scenario ${n}`);
    const max = concurrent ? random.int(2, 3) : random.pick([1, 2, 4]);
    // A time between the first and the last reading, to the minute; a threshold from 10 to 31 (none above 30).
    const minutes = Math.floor((last.getTime() - first.getTime()) / 60_000);
    const since = new Date(first.getTime() + random.int(1, minutes - 1) * 60_000).toISOString();
    const threshold = random.int(1000, 3100) / 100;
    const badSince = random.pick(BAD_TIMES.slice(1));
    return {
      name: `Scenario ${n} of 3 (a pool of ${max}, ${
        concurrent ? "every call at once, so some wait for a connection" : "the calls one at a time in a shuffled order"
      }, only the first query of a failing call fails${
        concurrent ? "" : ", and some calls get a connection left inside a failed transaction"
      })`,
      max,
      since,
      threshold: threshold === THRESHOLD ? threshold + 0.01 : threshold,
      badSince,
      failing: "first",
      order: random,
      dirty: !concurrent,
      concurrent,
    };
  };
  return [
    {
      name: "Scenario 1 of 3 (the README's: a pool of 3, the calls one at a time)",
      max: 3,
      since: SINCE,
      threshold: THRESHOLD,
      badSince: BAD_TIMES[0],
      failing: "every",
      dirty: false,
      concurrent: false,
    },
    drawn(2, false),
    drawn(3, true),
  ];
}

/** The calls of a scenario, with what Postgres (on a separate connection) says each must return. */
async function dashboardCalls(pool: TracedPool, scenario: Scenario): Promise<Call[]> {
  const json = JSON.stringify;
  const { since: time, threshold, badSince } = scenario;
  const since = await adminQuery("SELECT * FROM sensors WHERE recorded_at >= $1 ORDER BY recorded_at", [time]);
  const latest = await adminQuery(SENSOR_QUERY);
  const hot = (await adminQuery<{ sensor_id: string }>(
    "SELECT DISTINCT sensor_id FROM sensors WHERE value > $1 ORDER BY sensor_id",
    [threshold],
  )).map((row) => row.sensor_id);
  const [{ total }] = await adminQuery<{ total: number }>("SELECT count(*)::int AS total FROM sensors");
  const none = () => new FaultSchedule({ failEvery: 0 });
  const failing = () => scenario.failing === "every" ? new FaultSchedule({ failEvery: 1 }) : new FirstQueryFails();
  const failingName = scenario.failing === "every" ? "failingFaults" : "firstQueryFails";
  const timeout = {
    code: "57014",
    meaning: "statement timeout",
    why: scenario.failing === "every"
      ? "the fault schedule fails every query"
      : "the fault schedule fails its first query (a retry would succeed, but the call has failed)",
  };
  const equals = (expected: unknown) => (value: unknown) => json(value) === json(expected);
  const calls: Call[] = [
    {
      label: `readingsSince(pool, "${time}")`,
      fn: "readingsSince()",
      send: () => readingsSince(pool, time),
      returns: { check: equals(since), what: `the ${since.length} readings recorded since then, oldest first` },
    },
    {
      label: `readingsSince(pool, "${badSince}")`,
      fn: "readingsSince()",
      send: () => readingsSince(pool, badSince),
      fails: { code: "22007", meaning: "invalid datetime format", why: "Postgres cannot read that as a time" },
    },
    {
      label: "newestReading(pool, faults)",
      fn: "newestReading()",
      send: () => newestReading(pool, none()),
      returns: { check: equals(latest[0]), what: "the newest reading" },
    },
    {
      label: `newestReading(pool, ${failingName})`,
      fn: "newestReading()",
      send: () => newestReading(pool, failing()),
      fails: timeout,
    },
    {
      label: "latestReadings(pool, faults)",
      fn: "latestReadings()",
      send: () => latestReadings(pool, none()),
      returns: { check: equals(latest), what: "the latest 10 readings, newest first" },
    },
    {
      label: `latestReadings(pool, ${failingName})`,
      fn: "latestReadings()",
      send: () => latestReadings(pool, failing()),
      fails: timeout,
    },
    {
      label: `hotSensors(pool, ${threshold})`,
      fn: "hotSensors()",
      send: () => hotSensors(pool, threshold),
      returns: { check: equals(hot), what: json(hot) },
    },
    {
      label: "snapshotReport(pool, faults)",
      fn: "snapshotReport()",
      send: () => snapshotReport(pool, none()),
      returns: {
        check: (value) => {
          const report = value as { readings?: unknown; total?: unknown } | undefined;
          return json(report?.readings) === json(latest) && report?.total === total;
        },
        what: `{ readings: the latest 10 readings, total: ${total} }`,
      },
    },
    {
      label: `snapshotReport(pool, ${failingName})`,
      fn: "snapshotReport()",
      send: () => snapshotReport(pool, failing()),
      fails: timeout,
    },
  ];
  if (scenario.dirty) {
    const aborted = {
      code: "25P02",
      meaning: "in failed SQL transaction",
      why: "the connection it was handed sat inside a failed transaction, so Postgres refuses its first statement",
    };
    const onDirty = " on a connection left inside a failed transaction";
    calls.push(
      {
        label: `readingsSince(pool, "${time}")${onDirty}`,
        fn: "readingsSince()",
        send: () => readingsSince(pool, time),
        fails: aborted,
        dirty: true,
      },
      {
        label: `newestReading(pool, faults)${onDirty}`,
        fn: "newestReading()",
        send: () => newestReading(pool, none()),
        fails: aborted,
        dirty: true,
      },
      {
        label: `latestReadings(pool, faults)${onDirty}`,
        fn: "latestReadings()",
        send: () => latestReadings(pool, none()),
        fails: aborted,
        dirty: true,
      },
      {
        label: `hotSensors(pool, ${threshold})${onDirty}`,
        fn: "hotSensors()",
        send: () => hotSensors(pool, threshold),
        fails: aborted,
        dirty: true,
      },
      {
        label: `snapshotReport(pool, faults)${onDirty} (its \`BEGIN\` fails)`,
        fn: "snapshotReport()",
        send: () => snapshotReport(pool, none()),
        fails: aborted,
        dirty: true,
      },
    );
  }
  return scenario.order ? scenario.order.shuffle(calls) : calls;
}

/**
 * Leaves the connection the pool hands out next inside a failed transaction, so the next statement sent on it
 * fails with SQLSTATE 25P02: pg-pool hands out the connection returned last first.
 */
async function dirtyNextConnection(pool: TracedPool): Promise<void> {
  const conn = await pool.acquire();
  try {
    await conn.query("BEGIN");
    await conn.query("SELECT 1 / 0").catch(() => {}); // division_by_zero: the transaction is aborted
  } finally {
    conn.release();
  }
}

/** Ends whatever transaction the checkpoint left open on the pool's idle connections. */
async function cleanIdleConnections(pool: TracedPool): Promise<void> {
  const leases = await Promise.all(Array.from({ length: pool.stats().idle }, () => pool.acquire()));
  try {
    for (const lease of leases) await lease.query("ROLLBACK");
  } finally {
    for (const lease of leases) lease.release();
  }
}

/** The leases each call (by trace) still held at the moment its promise settled. */
type HeldAtSettle = Map<string, number[]>;

/**
 * Sends a call and notes, the moment its promise settles, which of its leases are still out: the caller resumes
 * then, so a connection given back later (a timer, a callback) is still held when the call has answered.
 */
function sendWatched(call: Call, exporter: InMemorySpanExporter, held: HeldAtSettle): () => Promise<unknown> {
  return () => {
    const traceId = trace.getActiveSpan()?.spanContext().traceId ?? "";
    const note = () => held.set(traceId, leaseBalance(exporter.getFinishedSpans(), traceId).kept);
    return call.send().then(
      (value) => (note(), value),
      (error: unknown) => {
        note();
        throw error;
      },
    );
  };
}

const did = (o: RequestOutcome<unknown>) => (o.ok ? "succeeded" : `failed with ${describeError(o.error)}`);

/** The connection: taken once, given back once, after its query, by this call. */
function judgeLease(
  where: string,
  call: Call,
  outcome: RequestOutcome<unknown>,
  spans: readonly ReadableSpan[],
  pool: TracedPool,
  held: HeldAtSettle,
) {
  const error = outcome.error;
  if (error instanceof LeaseReleasedError) {
    const lost = call.fails ? `its real error (SQLSTATE ${call.fails.code})` : "its result";
    step.fail(
      /called twice/.test(error.message)
        ? `${where}: \`${call.label}\` released its connection twice: the second release() threw ` +
          `LeaseReleasedError ("${firstSentence(error)}"), and that error replaced ${lost}. Release each ` +
          "connection exactly once: in one `finally` that every path goes through, or with `await using` alone."
        : `${where}: \`${call.label}\` failed with ${describeError(error)}: its connection was given back before ` +
          "its query used it. Release it after the query.",
    );
  }
  if (error instanceof PoolExhaustedError) {
    step.fail(
      `${where}: \`${call.label}\` failed with ${describeError(error)}: connections taken by earlier calls never ` +
        "came back.",
    );
  }
  const { acquired, kept } = leaseBalance(spans, outcome.traceId);
  step.expect(
    acquired.length <= 1,
    () =>
      `${where}: \`${call.label}\` took ${acquired.length} connections (leases ${listOf(acquired)}); each ` +
      "function needs one" +
      (call.fn === "snapshotReport()"
        ? ": a transaction lives on one connection, so BEGIN, the queries and COMMIT must run on the same lease " +
          "(`pool.query()` takes a new connection for every statement)."
        : "."),
  );
  const early = returnedWhileBusy(leaseTimelines(spans, outcome.traceId));
  if (early) {
    const start = traceStartedAt(spans, outcome.traceId);
    step.fail(
      `${where}: \`${call.label}\` gave its connection (#${early.leaseId}) back to the pool before its last query ` +
        `finished: in its trace, connection_returned_safely comes at ${ms(early.returnedAt! - start)} and the ` +
        `query ends at ${ms(early.busyUntil - start)}. A promise the function does not \`await\` (a \`return\` of ` +
        "the query's promise, a query started and not awaited) lets the function end at once, and `finally` (or " +
        "`await using`) gives the connection back while the query still runs: the next caller can be handed a " +
        "busy connection.",
    );
  }
  const late = (held.get(outcome.traceId) ?? []).find((id) => !kept.includes(id));
  if (late !== undefined) {
    const timeline = leaseTimelines(spans, outcome.traceId).find((t) => t.leaseId === late);
    const start = traceStartedAt(spans, outcome.traceId);
    const settledAt = spanEndedAt(spans, outcome.traceId, "request");
    step.fail(
      `${where}: \`${call.label}\` ${did(outcome)} while it still held its connection (#${late}): it gave it back ` +
        `only later, at ${ms(timeline!.returnedAt! - start)} in its trace${
          settledAt === undefined ? "" : `, after the call had settled at ${ms(settledAt - start)}`
        }. A release deferred (a timer, a callback run later, a helper that schedules it) leaves the connection ` +
        "out after the function has answered, so a burst of calls finds the pool empty. Give it back before the " +
        "function returns or throws: in `finally`, or with `await using`.",
    );
  }
  if (kept.length > 0) {
    step.fail(
      `${where}: \`${call.label}\` ${did(outcome)} and kept its connection (#${kept[0]}): its trace has ` +
        `connection_acquired but no connection_returned_safely, so ${call.fn} still leaks on the ` +
        `${outcome.ok ? "success" : "error"} path${
          call.dirty ? " (here its first statement failed, as it does on a connection in a failed transaction)" : ""
        }. ${pool.stats().active} connection(s) are out now.`,
    );
  }
}

/** The `database.query` spans of a trace, in the order they started. */
function queriesOf(spans: readonly ReadableSpan[], traceId: string): ReadableSpan[] {
  return traceOf(spans, traceId)
    .filter((span) => span.name === "database.query")
    .sort((a, b) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1]);
}

/** Whether the trace sent a failed query again (the same statement, or the sensor query the schedule fails). */
function retried(spans: readonly ReadableSpan[], traceId: string): boolean {
  const queries = queriesOf(spans, traceId);
  const text = (span: ReadableSpan) => String(span.attributes["db.query.text"] ?? "");
  const same = (a: string, b: string) =>
    a === b || ([SENSOR_QUERY, FAILING_SENSOR_QUERY].includes(a) && [SENSOR_QUERY, FAILING_SENSOR_QUERY].includes(b));
  const failed = queries.findIndex((span) => span.events.some((event) => event.name === "query_error"));
  return failed !== -1 && queries.slice(failed + 1).some((span) => same(text(span), text(queries[failed])));
}

/** What the caller gets: the rows Postgres has, or the real error. */
function judgeResult(where: string, call: Call, outcome: RequestOutcome<unknown>, spans: readonly ReadableSpan[]) {
  if (call.fails) {
    const { code, meaning, why } = call.fails;
    step.expect(
      !outcome.ok && sqlstate(outcome.error) === code,
      () =>
        `${where}: \`${call.label}\` must fail with SQLSTATE ${code} (${meaning}): ${why}, and the caller has to ` +
        "learn that. It " +
        (!outcome.ok
          ? `failed with ${describeError(outcome.error)} instead. Fix the leak, not the error: let the real error ` +
            "reach the caller."
          : retried(spans, outcome.traceId)
          ? `returned ${shown(outcome.value)}: its query failed, and ${call.fn} caught the error and sent the ` +
            "query again, so the caller got the second answer and never learned of the failure. Fix the leak, not " +
            "the error: let the first error reach the caller."
          : queryFailedIn(spans, outcome.traceId)
          ? `returned ${shown(outcome.value)}: its query failed, but the error was caught and swallowed. Fix the ` +
            "leak, not the error: let the error reach the caller."
          : `returned ${shown(outcome.value)}: no query failed, so ${call.fn} no longer sends Postgres the query ` +
            "it sent before. Answering without asking Postgres hides the failure as surely as catching it."),
    );
    return;
  }
  step.expect(
    outcome.ok,
    () => `${where}: \`${call.label}\` must succeed, but it failed with ${describeError(outcome.error)}.`,
  );
  step.expect(
    call.returns!.check(outcome.value),
    () =>
      `${where}: \`${call.label}\` returned ${shown(outcome.value)}, which is not ${call.returns!.what} (as ` +
      `Postgres has them). A fix keeps what ${call.fn} returns: the same query, the same rows.`,
  );
}

/** The pool afterwards: every connection idle outside a transaction, none out, the pool still open. */
async function judgePool(where: string, after: string, fn: string, pool: TracedPool) {
  // pg rejects a failed query on Postgres' error message, a moment before the backend has finished aborting and
  // reports its new state: let the backends settle first.
  const backends = await eventually(
    () => backendsOf(pool.name),
    (all) => all.every((b) => b.state !== "active"),
    { timeoutMs: 1_000, intervalMs: 10 },
  );
  const dirty = backends.filter((b) => b.state !== "idle");
  step.expect(
    dirty.length === 0,
    () =>
      `${where}: after ${after}, pg_stat_activity shows the pool's connection(s) as ` +
      `${listOf(dirty.map((b) => `"${b.state}"`))}: ${fn} gave its connection back inside ` +
      (dirty.some((b) => b.state.includes("aborted"))
        ? "an aborted transaction, and the next caller to get it fails with SQLSTATE 25P02 (current transaction " +
          "is aborted). Keep the `ROLLBACK` on the error path: `await using` gives the connection back, it does not " +
          "end its transaction."
        : "an open transaction, which holds its snapshot until someone ends it. End the transaction (`COMMIT`, or " +
          "`ROLLBACK` on the error path) before the connection goes back."),
  );
  step.expect(
    pool.stats().active === 0,
    () => `${where}: after ${after}, ${pool.stats().active} connection(s) are still out of the pool.`,
  );
  // `await using` on the pool ends it as the call returns: the next acquire says so.
  const probe = await pool.acquire().then((lease) => lease.release(), (error: unknown) => error);
  step.expect(
    !(probe instanceof PoolEndedError),
    () =>
      `${where}: ${after} ended the whole pool: every call after it fails with PoolEndedError. \`await using\` on ` +
      "a pool ends the pool when the block exits; put it on the lease (`await using conn = await pool.acquire()`).",
  );
}

/** snapshotReport(): BEGIN … REPEATABLE READ first, then COMMIT (or ROLLBACK when it failed) last. */
function judgeSnapshot(where: string, call: Call, outcome: RequestOutcome<unknown>, spans: readonly ReadableSpan[]) {
  const queries = queriesOf(spans, outcome.traceId).map((span) => String(span.attributes["db.query.text"] ?? ""));
  const ends = outcome.ok ? COMMITS : ROLLS_BACK;
  const brief = (query: string) => {
    const first = query.split(";")[0].trim();
    return `\`${first.length > 36 ? `${first.slice(0, 35)}…` : first}\``;
  };
  step.expect(
    OPENS_SNAPSHOT.test(queries[0] ?? "") && ends.test(queries.at(-1) ?? ""),
    () =>
      `${where}: \`${call.label}\` ran ${listOf(queries.map(brief))}: its queries must run in one snapshot, from ` +
      `\`BEGIN ISOLATION LEVEL REPEATABLE READ …\` to ${outcome.ok ? "`COMMIT`" : "`ROLLBACK` when a query fails"}. ` +
      "Keep the transaction: without it the readings and the count can disagree.",
  );
}

/** A call that gave back a connection another call had taken: the lease lived somewhere both calls share. */
function judgeOwnLease(where: string, call: Call, outcome: RequestOutcome<unknown>, spans: readonly ReadableSpan[]) {
  const ids = (name: string) =>
    eventsNamed(traceOf(spans, outcome.traceId), name).map((e) => Number(e.attributes["lease.id"]));
  const acquired = new Set(ids("connection_acquired"));
  // A second release() of a connection another call had already given back throws, naming it.
  const twice = outcome.error instanceof LeaseReleasedError
    ? Number(/#(\d+)/.exec(outcome.error.message)?.[1] ?? NaN)
    : NaN;
  const foreign = [...ids("connection_returned_safely"), ...(Number.isNaN(twice) ? [] : [twice])]
    .filter((id) => !acquired.has(id));
  step.expect(
    foreign.length === 0,
    () =>
      `${where}: \`${call.label}\` gave back connection #${foreign[0]}, which another call had taken: ` +
      "the lease is kept where calls that overlap share it (a variable outside the function), " +
      "so each call overwrites it and releases the wrong connection, and its own is never returned. Keep each " +
      "connection in a `const` (or `await using`) inside the function that took it.",
  );
}

/** What one call did with its connection and what it gave the caller, judged from its outcome and its trace. */
function judgeCall(
  where: string,
  call: Call,
  outcome: RequestOutcome<unknown>,
  spans: readonly ReadableSpan[],
  pool: TracedPool,
  held: HeldAtSettle,
) {
  judgeLease(where, call, outcome, spans, pool, held);
  judgeResult(where, call, outcome, spans);
}

/**
 * Lets what a call left running finish: a query it did not await ends a moment later, pg rejects a failed query
 * on Postgres' error message a moment before the backend has finished aborting, and a release deferred past the
 * call lands (up to 250 ms), so a message can say when it came rather than that it never did.
 */
async function settle(pool: TracedPool): Promise<void> {
  await settleLeases([pool], 250);
  await eventually(
    () => backendsOf(pool.name),
    (all) => all.every((b) => b.state !== "active"),
    { timeoutMs: 1_000, intervalMs: 10 },
  );
  await new Promise((resolve) => setTimeout(resolve, 15));
}

Deno.test(step.test("every function keeps its rows and real errors, and gives its connection back", async () => {
  for (const scenario of await scenarios()) {
    const { tracer, exporter } = recordingTracer();
    const pool = checkpointPool("step04b", {
      max: scenario.max,
      acquireTimeoutMs: 3_000, // no call waits long unless an earlier one leaked, which its trace shows first
      tracer,
    });
    try {
      const calls = await dashboardCalls(pool, scenario);
      const held: HeldAtSettle = new Map();
      const where = scenario.name;
      // On a connection left in a failed transaction the BEGIN itself fails: nothing to commit or roll back.
      const snapshot = (call: Call) => call.fn === "snapshotReport()" && !call.dirty;
      if (scenario.concurrent) {
        const outcomes = await runConcurrentRequests({
          tracer,
          count: calls.length,
          send: (n) => sendWatched(calls[n - 1], exporter, held)(),
        });
        await settle(pool);
        const spans = exporter.getFinishedSpans();
        for (const [i, call] of calls.entries()) judgeOwnLease(where, call, outcomes[i], spans);
        for (const [i, call] of calls.entries()) judgeCall(where, call, outcomes[i], spans, pool, held);
        await judgePool(where, "every call at once", "a function", pool);
        for (const [i, call] of calls.entries()) if (snapshot(call)) judgeSnapshot(where, call, outcomes[i], spans);
        continue;
      }
      for (const call of calls) {
        if (call.dirty) await dirtyNextConnection(pool);
        const [outcome] = await runRequests({ tracer, root: true, count: 1, send: sendWatched(call, exporter, held) });
        await settle(pool);
        const spans = exporter.getFinishedSpans();
        judgeCall(where, call, outcome, spans, pool, held);
        if (call.dirty) await cleanIdleConnections(pool);
        await judgePool(where, `\`${call.label}\``, call.fn, pool);
        if (snapshot(call)) judgeSnapshot(where, call, outcome, spans);
      }
    } finally {
      await pool.end();
    }
  }
}));

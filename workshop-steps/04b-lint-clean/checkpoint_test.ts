/**
 * Checkpoint of step 4b: `sensor_dashboard.ts` is clean under
 * `leak-lab/release-on-every-path`, run over the file as it is (its
 * `deno-lint-ignore` comments count for nothing), and it still does what it
 * did. Every function returns what Postgres has, every failure still fails
 * with its real SQLSTATE, and every connection comes back: after its query,
 * once, and outside any transaction. Judged by the rule, then by each call's
 * trace, the pool's counters and pg_stat_activity.
 */
import { sqlstate } from "leak-lab/database.ts";
import { FaultSchedule, SENSOR_QUERY } from "leak-lab/demo/fault_schedule.ts";
import { type RequestOutcome, runRequests } from "leak-lab/demo/request_series.ts";
import { LeaseReleasedError, PoolEndedError, PoolExhaustedError, type TracedPool } from "leak-lab/pool.ts";
import { eventually } from "leak-lab/util/eventually.ts";
import { type Checkpoint, checkpoint } from "leak-lab/workshop/checkpoint.ts";
import {
  describeError,
  firstSentence,
  leaseBalance,
  leaseTimelines,
  listOf,
  ms,
  queryFailedIn,
  returnedWhileBusy,
  shown,
  traceOf,
  traceStartedAt,
} from "leak-lab/workshop/checkpoint_checks.ts";
import { adminQuery, backendsOf, checkpointPool } from "leak-lab/workshop/checkpoint_database.ts";
import { type LeakFinding, leakIgnoreComments, lintLeaks } from "leak-lab/workshop/lint_findings.ts";
import { recordingTracer } from "leak-lab/workshop/recording_tracer.ts";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
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
}

const SINCE = "2026-01-01T04:50:00Z";
const THRESHOLD = 29.95;
const TIMEOUT = { code: "57014", meaning: "statement timeout", why: "the fault schedule fails every query" };
/** The first and last statements of a snapshot (the `db.query.text` of its spans). */
const OPENS_SNAPSHOT = /^\s*(BEGIN|START\s+TRANSACTION)\b[^;]*\b(REPEATABLE\s+READ|SERIALIZABLE)\b/i;
const COMMITS = /^\s*(COMMIT|END)\b/i;
const ROLLS_BACK = /^\s*ROLLBACK\b/i;

/** The calls, in order, with what Postgres (on a separate connection) says each must return. */
async function dashboardCalls(pool: TracedPool): Promise<Call[]> {
  const json = JSON.stringify;
  const since = await adminQuery("SELECT * FROM sensors WHERE recorded_at >= $1 ORDER BY recorded_at", [SINCE]);
  const latest = await adminQuery(SENSOR_QUERY);
  const hot = (await adminQuery<{ sensor_id: string }>(
    "SELECT DISTINCT sensor_id FROM sensors WHERE value > $1 ORDER BY sensor_id",
    [THRESHOLD],
  )).map((row) => row.sensor_id);
  const [{ total }] = await adminQuery<{ total: number }>("SELECT count(*)::int AS total FROM sensors");
  const none = () => new FaultSchedule({ failEvery: 0 });
  const all = () => new FaultSchedule({ failEvery: 1 });
  const equals = (expected: unknown) => (value: unknown) => json(value) === json(expected);
  return [
    {
      label: `readingsSince(pool, "${SINCE}")`,
      fn: "readingsSince()",
      send: () => readingsSince(pool, SINCE),
      returns: { check: equals(since), what: `the ${since.length} readings recorded since then, oldest first` },
    },
    {
      label: 'readingsSince(pool, "last tuesday")',
      fn: "readingsSince()",
      send: () => readingsSince(pool, "last tuesday"),
      fails: { code: "22007", meaning: "invalid datetime format", why: "Postgres cannot read that as a time" },
    },
    {
      label: "newestReading(pool, faults)",
      fn: "newestReading()",
      send: () => newestReading(pool, none()),
      returns: { check: equals(latest[0]), what: "the newest reading" },
    },
    {
      label: "newestReading(pool, failingFaults)",
      fn: "newestReading()",
      send: () => newestReading(pool, all()),
      fails: TIMEOUT,
    },
    {
      label: "latestReadings(pool, faults)",
      fn: "latestReadings()",
      send: () => latestReadings(pool, none()),
      returns: { check: equals(latest), what: "the latest 10 readings, newest first" },
    },
    {
      label: "latestReadings(pool, failingFaults)",
      fn: "latestReadings()",
      send: () => latestReadings(pool, all()),
      fails: TIMEOUT,
    },
    {
      label: `hotSensors(pool, ${THRESHOLD})`,
      fn: "hotSensors()",
      send: () => hotSensors(pool, THRESHOLD),
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
      label: "snapshotReport(pool, failingFaults)",
      fn: "snapshotReport()",
      send: () => snapshotReport(pool, all()),
      fails: TIMEOUT,
    },
  ];
}

const did = (o: RequestOutcome<unknown>) => (o.ok ? "succeeded" : `failed with ${describeError(o.error)}`);

/** The connection: taken once, given back once, after its query, by this call. */
function judgeLease(call: Call, outcome: RequestOutcome<unknown>, spans: readonly ReadableSpan[], pool: TracedPool) {
  const error = outcome.error;
  if (error instanceof LeaseReleasedError) {
    const lost = call.fails ? `its real error (SQLSTATE ${call.fails.code})` : "its result";
    step.fail(
      /called twice/.test(error.message)
        ? `\`${call.label}\` released its connection twice: the second release() threw LeaseReleasedError ` +
          `("${firstSentence(error)}"), and that error replaced ${lost}. Release each connection exactly once: in ` +
          "one `finally` that every path goes through, or with `await using` alone."
        : `\`${call.label}\` failed with ${describeError(error)}: its connection was given back before its query ` +
          "used it. Release it after the query.",
    );
  }
  if (error instanceof PoolExhaustedError) {
    step.fail(
      `\`${call.label}\` failed with ${describeError(error)}: connections taken by earlier calls never came back.`,
    );
  }
  const { acquired, kept } = leaseBalance(spans, outcome.traceId);
  step.expect(
    acquired.length <= 1,
    () =>
      `\`${call.label}\` took ${acquired.length} connections (leases ${listOf(acquired)}); each function needs one` +
      (call.fn === "snapshotReport()"
        ? ": a transaction lives on one connection, so BEGIN, the queries and COMMIT must run on the same lease " +
          "(`pool.query()` takes a new connection for every statement)."
        : "."),
  );
  const early = returnedWhileBusy(leaseTimelines(spans, outcome.traceId));
  if (early) {
    const start = traceStartedAt(spans, outcome.traceId);
    step.fail(
      `\`${call.label}\` gave its connection (#${early.leaseId}) back to the pool before its query finished: in its ` +
        `trace, connection_returned_safely comes at ${ms(early.returnedAt! - start)} and the query ends at ` +
        `${ms(early.busyUntil - start)}. A \`return\` of the query's promise without \`await\` leaves the function ` +
        "at once, and `finally` (or `await using`) gives the connection back while the query still runs: the next " +
        "caller can be handed a busy connection.",
    );
  }
  if (kept.length > 0) {
    step.fail(
      `\`${call.label}\` ${did(outcome)} and kept its connection (#${kept[0]}): its trace has connection_acquired ` +
        `but no connection_returned_safely, so ${call.fn} still leaks on the ${outcome.ok ? "success" : "error"} ` +
        `path. ${pool.stats().active} connection(s) are out now.`,
    );
  }
}

/** What the caller gets: the rows Postgres has, or the real error. */
function judgeResult(call: Call, outcome: RequestOutcome<unknown>, spans: readonly ReadableSpan[]) {
  if (call.fails) {
    const { code, meaning, why } = call.fails;
    step.expect(
      !outcome.ok && sqlstate(outcome.error) === code,
      () =>
        `\`${call.label}\` must fail with SQLSTATE ${code} (${meaning}): ${why}, and the caller has to learn that. ` +
        "It " +
        (!outcome.ok
          ? `failed with ${describeError(outcome.error)} instead. Fix the leak, not the error: let the real error ` +
            "reach the caller."
          : queryFailedIn(spans, outcome.traceId)
          ? `returned ${shown(outcome.value)}: its query failed, but the error was caught and swallowed. Fix the ` +
            "leak, not the error: let the error reach the caller."
          : `returned ${shown(outcome.value)}: no query failed, so ${call.fn} no longer sends Postgres the query ` +
            "it sent before. Answering without asking Postgres hides the failure as surely as catching it."),
    );
    return;
  }
  step.expect(outcome.ok, () => `\`${call.label}\` must succeed, but it failed with ${describeError(outcome.error)}.`);
  step.expect(
    call.returns!.check(outcome.value),
    () =>
      `\`${call.label}\` returned ${shown(outcome.value)}, which is not ${call.returns!.what} (as Postgres has ` +
      `them). A fix keeps what ${call.fn} returns: the same query, the same rows.`,
  );
}

/** The pool afterwards: every connection idle outside a transaction, none out, the pool still open. */
async function judgePool(call: Call, pool: TracedPool) {
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
      `After \`${call.label}\`, pg_stat_activity shows the pool's connection(s) as ` +
      `${listOf(dirty.map((b) => `"${b.state}"`))}: ${call.fn} gave its connection back inside ` +
      (dirty.some((b) => b.state.includes("aborted"))
        ? "an aborted transaction, and the next caller to get it fails with SQLSTATE 25P02 (current transaction " +
          "is aborted). Keep the `ROLLBACK` on the error path: `await using` gives the connection back, it does not " +
          "end its transaction."
        : "an open transaction, which holds its snapshot until someone ends it. End the transaction (`COMMIT`, or " +
          "`ROLLBACK` on the error path) before the connection goes back."),
  );
  step.expect(
    pool.stats().active === 0,
    () => `After \`${call.label}\`, ${pool.stats().active} connection(s) are still out of the pool.`,
  );
  // `await using` on the pool ends it as the call returns: the next acquire says so.
  const probe = await pool.acquire().then((lease) => lease.release(), (error: unknown) => error);
  step.expect(
    !(probe instanceof PoolEndedError),
    () =>
      `\`${call.label}\` ended the whole pool: every call after it fails with PoolEndedError. \`await using\` on a ` +
      "pool ends the pool when the block exits; put it on the lease (`await using conn = await pool.acquire()`).",
  );
}

/** snapshotReport(): BEGIN … REPEATABLE READ first, then COMMIT (or ROLLBACK when it failed) last. */
function judgeSnapshot(call: Call, outcome: RequestOutcome<unknown>, spans: readonly ReadableSpan[]) {
  const queries = traceOf(spans, outcome.traceId)
    .filter((span) => span.name === "database.query")
    .sort((a, b) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1])
    .map((span) => String(span.attributes["db.query.text"] ?? ""));
  const ends = outcome.ok ? COMMITS : ROLLS_BACK;
  const brief = (query: string) => {
    const first = query.split(";")[0].trim();
    return `\`${first.length > 36 ? `${first.slice(0, 35)}…` : first}\``;
  };
  step.expect(
    OPENS_SNAPSHOT.test(queries[0] ?? "") && ends.test(queries.at(-1) ?? ""),
    () =>
      `\`${call.label}\` ran ${listOf(queries.map(brief))}: its queries must run in one snapshot, from ` +
      `\`BEGIN ISOLATION LEVEL REPEATABLE READ …\` to ${outcome.ok ? "`COMMIT`" : "`ROLLBACK` when a query fails"}. ` +
      "Keep the transaction: without it the readings and the count can disagree.",
  );
}

Deno.test(step.test("every function keeps its rows and real errors, and gives its connection back", async () => {
  const { tracer, exporter } = recordingTracer();
  const pool = checkpointPool("step04b", { max: 3, acquireTimeoutMs: 500, tracer });
  try {
    for (const call of await dashboardCalls(pool)) {
      const [outcome] = await runRequests({ tracer, root: true, count: 1, send: call.send });
      const spans = exporter.getFinishedSpans();
      judgeLease(call, outcome, spans, pool);
      judgeResult(call, outcome, spans);
      await judgePool(call, pool);
      if (call.fn === "snapshotReport()") judgeSnapshot(call, outcome, spans);
    }
  } finally {
    await pool.end();
  }
}));

/**
 * Checkpoint of step 4: `sensorReport()` returns both connections on every
 * path — a failed query on either pool, a replica too busy to hand out a
 * connection, a replica that is down, a primary too busy — within its
 * request, and only once their queries have finished.
 *
 * The README's scenario runs first (the starter's message stays the one the
 * README quotes), then a seeded one that varies what the exercise never
 * promises: both pools' sizes, which requests fail and on which pool, the
 * order of the phases, how many requests queue at once and how they
 * interleave, and how taking the replica's connection fails.
 */
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { sqlstate } from "leak-lab/database.ts";
import { FAILING_SENSOR_QUERY, FaultSchedule, SENSOR_QUERY } from "leak-lab/demo/fault_schedule.ts";
import { type RequestOutcome, runRequests } from "leak-lab/demo/request_series.ts";
import { type Lease, LeaseReleasedError, PoolEndedError, PoolExhaustedError, type TracedPool } from "leak-lab/pool.ts";
import { type Checkpoint, checkpoint } from "leak-lab/workshop/checkpoint.ts";
import {
  describeError,
  failedAcquires,
  firstSentence,
  handedOutWhileBusy,
  isDatabaseError,
  leaseLedger,
  leaseTimelines,
  listOf,
  ms,
  queryErrorCodes,
  queryErrorMessages,
  queryFailedIn,
  runConcurrentRequests,
  settle,
  settledBackends,
  spanEndedAt,
  thrownAt,
  traceOf,
  traceStartedAt,
  unhandledRejections,
} from "leak-lab/workshop/checkpoint_checks.ts";
import { adminQuery, checkpointDatabaseUrl, checkpointPool } from "leak-lab/workshop/checkpoint_database.ts";
import type { SeededRandom } from "leak-lab/workshop/checkpoint_seed.ts";
import { recordingTracer } from "leak-lab/workshop/recording_tracer.ts";
import { type SensorReport, sensorReport } from "./sensor_report.ts";

const step: Checkpoint = checkpoint({ edit: "sensor_report.ts" });

/** The faults of one request: its first primary query fails when it is scheduled to, no other query does. */
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

/**
 * What one request with both pools free does: both queries succeed, or one of them fails — the primary's
 * while the replica's count is still running, in the last kind (the replica is slow then, not failing).
 */
type Kind = "ok" | "primary fails" | "replica fails" | "primary fails, replica slow";
/** A phase where taking one of the connections fails. */
type Phase = "replica busy" | "replica down" | "primary busy";

interface Scenario {
  /** "" for the README's scenario; else how messages introduce it. */
  label: string;
  primaryMax: number;
  replicaMax: number;
  /** The requests sent with both pools free, in order. */
  free: Kind[];
  /** The phases where an acquire() fails, in the order they run. */
  phases: Phase[];
  /** Requests per such phase. */
  perPhase: number;
  /** Requests at once, queueing for the pools. */
  together: number;
  /** Which of them (1-based) have their primary query fail. */
  togetherFails: number[];
  /** When each request at once starts (ms after the first). */
  delays: number[];
}

const README_SCENARIO: Scenario = {
  label: "",
  primaryMax: 3,
  replicaMax: 1,
  free: ["ok", "primary fails", "ok", "primary fails", "ok", "primary fails"],
  phases: ["replica busy", "primary busy"],
  perPhase: 2,
  together: 3,
  togetherFails: [],
  delays: [],
};

function seededScenario(random: SeededRandom): Scenario {
  const primaryMax = random.pick([1, 2, 4]);
  const replicaMax = random.pick([2, 3]);
  const count = random.int(5, 7);
  let free: Kind[];
  const kinds: Kind[] = ["ok", "primary fails", "replica fails", "primary fails, replica slow"];
  do free = Array.from({ length: count }, () => random.pick(kinds)); while (
    !kinds.every((kind) => free.includes(kind)) ||
    free.every((kind, i) => kind === README_SCENARIO.free[i])
  );
  const together = replicaMax + random.int(1, 2);
  return {
    label: `a seeded scenario (primary max ${primaryMax}, replica max ${replicaMax})`,
    primaryMax,
    replicaMax,
    free,
    phases: random.shuffle<Phase>(["replica busy", "replica down", "primary busy"]),
    perPhase: random.int(1, 2),
    together,
    togetherFails: random.sample(1, 1, together),
    // The first two start together, so at least two are in flight at once; the others join over a few ms.
    delays: Array.from({ length: together }, (_, i) => (i < 2 ? 0 : random.int(0, 12))),
  };
}

/** A port on this machine that nothing listens on: a replica that is down. */
function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/**
 * A schema whose `sensors` takes 50 ms to read: a slow replica, whose count fails (57014) under a 5 ms statement
 * timeout.
 */
async function slowSensors(): Promise<{ schema: string; drop(): Promise<void> }> {
  const schema = `leaklab_step04_${crypto.randomUUID().slice(0, 8)}`;
  await adminQuery(`CREATE SCHEMA ${schema}`);
  await adminQuery(`CREATE VIEW ${schema}.sensors AS SELECT s.* FROM public.sensors s, pg_sleep(0.05)`);
  return { schema, drop: async () => void await adminQuery(`DROP SCHEMA IF EXISTS ${schema} CASCADE`) };
}

async function runScenario(s: Scenario): Promise<void> {
  // One tracer per pool family: each trace then holds one lease of each, and its queries.
  const primaryTraces = recordingTracer();
  const replicaTraces = recordingTracer();
  const tracer = primaryTraces.tracer;
  const slow = s.free.some((kind) => kind.includes("replica")) ? await slowSensors() : undefined;
  const downUrl = new URL(checkpointDatabaseUrl());
  downUrl.hostname = "127.0.0.1";
  downUrl.port = String(closedPort());

  const pools: TracedPool[] = [];
  const open = (prefix: string, options: Parameters<typeof checkpointPool>[1]) => {
    const pool = checkpointPool(prefix, options);
    pools.push(pool);
    return pool;
  };
  // Time to open a connection even on a busy machine; the pools held busy below wait 250 ms before they give up.
  const primary = open("step04-primary", { max: s.primaryMax, acquireTimeoutMs: 1_000, tracer });
  const replica = open("step04-replica", { max: s.replicaMax, acquireTimeoutMs: 1_000, tracer: replicaTraces.tracer });
  const primaryBusy = open("step04-primary", { max: s.primaryMax, acquireTimeoutMs: 250, tracer });
  const replicaBusy = open("step04-replica", {
    max: s.replicaMax,
    acquireTimeoutMs: 250,
    tracer: replicaTraces.tracer,
  });
  const failingReplica = slow
    ? open("step04-replica", {
      max: s.replicaMax,
      acquireTimeoutMs: 1_000,
      tracer: replicaTraces.tracer,
      options: `-c search_path=${slow.schema} -c statement_timeout=5`,
    })
    : undefined;
  const slowReplica = slow
    ? open("step04-replica", {
      max: s.replicaMax,
      acquireTimeoutMs: 1_000,
      tracer: replicaTraces.tracer,
      options: `-c search_path=${slow.schema}`,
    })
    : undefined;
  const downReplica = s.phases.includes("replica down")
    ? open("step04-replica", {
      max: s.replicaMax,
      acquireTimeoutMs: 2_000, // a refusal comes at once; a busy machine may take a while to hear it
      tracer: replicaTraces.tracer,
      connectionString: downUrl.href,
    })
    : undefined;
  // For requests queueing at once: time to wait their turn even on a busy machine.
  const primaryQueue = open("step04-primary", { max: s.primaryMax, acquireTimeoutMs: 5_000, tracer });
  const replicaQueue = open("step04-replica", {
    max: s.replicaMax,
    acquireTimeoutMs: 5_000,
    tracer: replicaTraces.tracer,
  });

  const latest = JSON.stringify(await adminQuery(SENSOR_QUERY));
  const [{ total }] = await adminQuery<{ total: number }>("SELECT count(*)::int AS total FROM sensors");
  const pre = s.label ? `In ${s.label}: ` : "";
  const families = [
    { name: "primary", spans: () => primaryTraces.exporter.getFinishedSpans() },
    { name: "replica", spans: () => replicaTraces.exporter.getFinishedSpans() },
  ] as const;
  const out = (family: string) =>
    pools.filter((pool) => pool.name.startsWith(`step04-${family}`)).reduce((n, pool) => n + pool.stats().active, 0);
  const outstanding = (when: string) =>
    `${when}: the primary has ${out("primary")} connection(s) out, the replica ${out("replica")}.`;
  const did = (o: RequestOutcome<unknown>) => (o.ok ? "succeeded" : `failed with ${describeError(o.error)}`);
  /** "failed with TypeError: … (thrown at sensor_report.ts:31)" for an error the code itself threw. */
  const didAt = (o: RequestOutcome<unknown>) => {
    if (!ownError(o)) return did(o);
    const at = thrownAt(o.error, step.file);
    return `${did(o)}${at ? ` (thrown at ${at})` : ""}`;
  };
  /** An error the code itself threw (a TypeError from its cleanup, an Error of its own): its top frame is the file's. */
  const ownError = (o: RequestOutcome<unknown>) => {
    if (o.ok || sqlstate(o.error) || !(o.error instanceof Error)) return false;
    const top = (o.error.stack ?? "").split("\n").find((line) => line.trim().startsWith("at "));
    return top !== undefined && top.includes(`/${step.file.split("/").pop()}:`);
  };

  /** What must hold for every request, whatever the phase: each lease back, by its request, after its queries. */
  const checkLeases = (outcomes: RequestOutcome<SensorReport>[], phase: string) => {
    const traces = new Set(outcomes.map((o) => o.traceId));
    const requestOf = (traceId: string) => outcomes.find((o) => o.traceId === traceId)?.request ?? 0;
    const ended = outcomes.find((o) => o.error instanceof PoolEndedError);
    if (ended) {
      const name = (ended.error as PoolEndedError).poolName;
      const which = name.startsWith("step04-primary") ? "primary" : "replica";
      step.fail(
        `${pre}Request ${ended.request} (${phase}) failed with ${describeError(ended.error)}: the ${which} pool ` +
          "had been ended by an earlier request. `await using` on a pool ends the whole pool when the block exits; " +
          "put it on each lease (`await using conn = await primary.acquire()`).",
      );
    }
    for (const outcome of outcomes) {
      step.expect(
        traceOf(primaryTraces.exporter.getFinishedSpans(), outcome.traceId).some((span) =>
          span.name === "sensor_report"
        ),
        () =>
          `${pre}Request ${outcome.request}'s (${phase}) trace has no sensor_report span from the primary pool: ` +
          'keep primary.scope("sensor_report", …) around the handler, it is what lets the primary tell a leak.',
      );
    }
    for (const { name, spans } of families) {
      const ledger = leaseLedger(spans()).filter((lease) => traces.has(lease.traceId));
      const start = Math.min(
        ...outcomes.map((o) => traceStartedAt(primaryTraces.exporter.getFinishedSpans(), o.traceId)),
      );
      for (const lease of ledger) {
        const foreign = lease.returns.find((r) => r.traceId !== lease.traceId);
        if (!foreign) continue;
        step.fail(
          `${pre}Request ${requestOf(foreign.traceId)} (${phase}) gave back a ${name} connection it did not take: ` +
            `#${lease.leaseId}, which request ${requestOf(lease.traceId)} had taken. Each request must give back ` +
            "the connections it took itself: with several requests in flight, a place every call of sensorReport() " +
            "shares holds only the connection taken last.",
        );
      }
      for (const lease of ledger) {
        const [back] = lease.returns;
        if (!back || back.at >= lease.busyUntil) continue;
        const other = families.find((f) => f.name !== name)!;
        const outcome = outcomes.find((o) => o.traceId === lease.traceId);
        step.expect(
          !(outcome && !outcome.ok && queryFailedIn(other.spans(), lease.traceId)),
          () =>
            `${pre}Request ${requestOf(lease.traceId)} (${phase}) ${did(outcome!)}: its ${other.name} query ` +
            `failed while its ${name} query was still running, and the ${name} connection (#${lease.leaseId}) ` +
            `went back to the pool at ${ms(back.at - start)}, before that query ended at ` +
            `${ms(lease.busyUntil - start)}. When the queries run at once and one fails, the block was left ` +
            "without waiting for the other (a Promise.all rejects at the first failure), so the connection was " +
            "given back while busy.",
        );
        step.fail(
          `${pre}Request ${requestOf(lease.traceId)} (${phase}) gave its ${name} connection (#${lease.leaseId}) ` +
            `back to the pool before its query finished: connection_returned_safely comes at ` +
            `${ms(back.at - start)}, the query ends at ${ms(lease.busyUntil - start)}. Returning the queries' ` +
            "promise without `await` leaves the block at once, and `await using` (or `finally`) gives the leases " +
            "back while their queries still run.",
        );
      }
    }
    const refused = outcomes.find((o) => o.error instanceof LeaseReleasedError);
    if (refused) {
      step.fail(
        `${pre}Request ${refused.request} (${phase}) failed with LeaseReleasedError ("${
          firstSentence(refused.error)
        }"): ${
          /called twice/.test((refused.error as Error).message)
            ? "a connection was released twice, and the second release() threw over the request's real outcome"
            : "a connection was used after it had been given back"
        }. Release each connection exactly once, after its query.`,
      );
    }
    for (const outcome of outcomes) {
      for (const { name, spans } of families) {
        const lease = leaseLedger(spans()).find((l) => l.traceId === outcome.traceId && l.returns.length === 0);
        if (!lease) continue;
        const otherName = name === "primary" ? "replica" : "primary";
        const other = families.find((f) => f.name === otherName)!;
        const [acquireFailure] = failedAcquires(other.spans(), outcome.traceId);
        const primaryFailed = queryFailedIn(primaryTraces.exporter.getFinishedSpans(), outcome.traceId);
        const replicaFailed = queryFailedIn(replicaTraces.exporter.getFinishedSpans(), outcome.traceId);
        const at = thrownAt(outcome.error, step.file);
        const thrown = ownError(outcome)
          ? `; then the code itself threw ${describeError(outcome.error)}${at ? ` at ${at}` : ""} over that error`
          : "";
        const why = acquireFailure
          ? `${otherName}.acquire() threw ${acquireFailure.error}${
            phase === "replica down" && otherName === "replica" ? " (the replica was down)" : ""
          } after the ${name} connection was taken — and the ${name} connection was never returned` +
            (name === "replica" ? ": taking the replica first only moved the leak to the other lease" : "") +
            thrown
          : outcome.ok
          ? `it succeeded, yet its ${name} connection was never returned`
          : primaryFailed || replicaFailed
          ? `its ${
            primaryFailed ? "query on the primary" : "count query on the replica"
          } failed and nothing gave its ${name} connection back on that path${thrown}`
          : ownError(outcome)
          ? `no query failed and no pool refused a connection: the error came from the code itself (${at}), and ` +
            `nothing gave its ${name} connection back on that path`
          : `nothing gave its ${name} connection back on that path`;
        step.fail(
          `${pre}Request ${outcome.request} (${phase}) ${did(outcome)} and kept ${name} connection ` +
            `#${lease.leaseId}: ${why}. Every lease needs its cleanup from the moment it exists. ` +
            outstanding("Now"),
        );
      }
    }
    for (const outcome of outcomes) {
      const ended = spanEndedAt(primaryTraces.exporter.getFinishedSpans(), outcome.traceId, "sensor_report") ??
        spanEndedAt(primaryTraces.exporter.getFinishedSpans(), outcome.traceId, "request")!;
      for (const { name, spans } of families) {
        const lease = leaseLedger(spans()).find((l) => l.traceId === outcome.traceId && l.returns.length > 0);
        if (!lease || lease.returns[0].at <= ended + 0.05) continue;
        step.fail(
          `${pre}Request ${outcome.request} (${phase}) ${did(outcome)}, and gave its ${name} connection ` +
            `(#${lease.leaseId}) back only ${ms(lease.returns[0].at - ended)} after the request had ended: a release ` +
            "put off until later (a timer, a callback nothing waits for) leaves the connection out of the pool " +
            "with nobody using it, and the pool counts it as leaked. Give it back before sensorReport() settles.",
        );
      }
    }
  };
  /** Which pool ran which query: the readings on the primary, the count on the replica, as GET /report promises. */
  const checkPools = (outcomes: RequestOutcome<SensorReport>[], phase: string) => {
    const queries = (
      spans: readonly ReadableSpan[],
      id: string,
    ) =>
      traceOf(spans, id).filter((span) => span.name === "database.query").map((span) =>
        String(span.attributes["db.query.text"] ?? "")
      );
    const readings = (text: string) => text === SENSOR_QUERY || text === FAILING_SENSOR_QUERY;
    for (const outcome of outcomes) {
      const onReplica = queries(replicaTraces.exporter.getFinishedSpans(), outcome.traceId);
      const onPrimary = queries(primaryTraces.exporter.getFinishedSpans(), outcome.traceId);
      const misplaced = onReplica.find(readings);
      const counted = onPrimary.find((text) => /\bcount\s*\(/i.test(text));
      step.expect(
        misplaced === undefined && counted === undefined,
        () =>
          `${pre}Request ${outcome.request} (${phase}) ran ` +
          (misplaced !== undefined
            ? `its readings query ("${misplaced}") on the replica's connection`
            : `its count ("${counted}") on the primary's connection`) +
          `, and it ${did(outcome)}. GET /report reads the latest readings on the primary and counts them on the ` +
          "replica: each query belongs on its own pool's connection (here both pools reach the same rows, so only " +
          "the queries' spans, which carry their pool, tell them apart).",
      );
    }
  };
  const checkReport = (outcome: RequestOutcome<SensorReport>, phase: string) => {
    step.expect(
      outcome.ok,
      () => `${pre}Request ${outcome.request} (${phase}) is not scheduled to fail, but it ${didAt(outcome)}.`,
    );
    step.expect(
      JSON.stringify(outcome.value?.readings) === latest && outcome.value?.total === total,
      () =>
        `${pre}Request ${outcome.request} (${phase}) answered readings that differ from Postgres' ` +
        `"${SENSOR_QUERY}" or a total of ${JSON.stringify(outcome.value?.total) ?? "nothing"} instead of ` +
        `${total}: the report must come from the two queries.`,
    );
  };
  const checkFailed = (outcome: RequestOutcome<SensorReport>, phase: string, on: "primary" | "replica") => {
    const spans = (on === "primary" ? primaryTraces : replicaTraces).exporter.getFinishedSpans();
    const code = queryErrorCodes(spans, outcome.traceId)[0] ?? "57014";
    const query = on === "primary" ? "its query on the primary" : "its count query on the replica";
    step.expect(
      !outcome.ok && sqlstate(outcome.error) === code,
      () =>
        `${pre}Request ${outcome.request} (${phase}) is scheduled to fail: ${query} fails with SQLSTATE ${code} ` +
        `(statement timeout), and the request must fail with it; it ${didAt(outcome)}${
          !outcome.ok
            ? ""
            : queryFailedIn(spans, outcome.traceId)
            ? `: ${query} failed, but the error was caught and swallowed`
            : on === "primary"
            ? ": its query never failed, so it did not run through readSensors(conn, faults)"
            : ": its count query never failed, so it did not run on the replica it was given"
        }. Fix the cleanup, not the error.`,
    );
    const raised = queryErrorMessages(spans, outcome.traceId);
    step.expect(
      isDatabaseError(outcome.error) && (raised.length === 0 || raised.includes((outcome.error as Error).message)),
      () =>
        `${pre}Request ${outcome.request} (${phase}) failed with SQLSTATE ${code}, but not with the error ${query} ` +
        `raised: the caller got ${
          outcome.error instanceof Error ? outcome.error.constructor.name : typeof outcome.error
        } "${firstSentence(outcome.error)}", while pg threw a DatabaseError` +
        (raised.length ? ` "${raised[0].split("\n")[0]}"` : "") +
        ". A new error carrying the code is a copy that loses pg's class, fields and stack. Fix the cleanup, not " +
        "the error.",
    );
  };
  const checkRefused = (
    outcomes: RequestOutcome<SensorReport>[],
    phase: Phase,
    refuses: TracedPool,
    expected: unknown,
    expectedText: string,
  ) => {
    for (const outcome of outcomes) {
      // Down: the same kind of error (refused, or timed out on a machine too busy to hear the refusal in time).
      const same = phase === "replica down"
        ? outcome.error instanceof Error && expected instanceof Error && outcome.error.name === expected.name &&
          outcome.error.constructor === expected.constructor
        : outcome.error instanceof PoolExhaustedError && outcome.error.poolName === refuses.name;
      const failedFirst = failedAcquires(
        (phase === "primary busy" ? primaryTraces : replicaTraces).exporter.getFinishedSpans(),
        outcome.traceId,
      ).length > 0;
      step.expect(
        same,
        () =>
          `${pre}With the ${phase}, request ${outcome.request} must fail with the error ` +
          `${
            phase === "primary busy" ? "primary" : "replica"
          }.acquire() threw (${expectedText}), unchanged: there is no connection to report with. It ${didAt(outcome)}${
            !outcome.ok && failedFirst && !same ? ": that error came after acquire() had failed, and replaced it" : ""
          }.`,
      );
    }
  };
  const send = (replicaPool: TracedPool, fail = false, primaryPool = primary) => () =>
    sensorReport(primaryPool, replicaPool, new RequestFaults(fail));
  const holding = async <T>(pool: TracedPool, fn: () => Promise<T>): Promise<T> => {
    const held: Lease[] = [];
    try {
      for (let i = 0; i < pool.max; i++) held.push(await pool.acquire());
      return await fn();
    } finally {
      for (const lease of held) lease.release();
    }
  };

  const rejections = unhandledRejections();
  const checkRejections = () => {
    const [reason] = rejections.stop();
    if (reason === undefined) return;
    const at = thrownAt(reason, step.file);
    step.fail(
      `${pre}A promise rejected and nothing handled it: ${describeError(reason)}${at ? ` (from ${at})` : ""}. ` +
        "In a server an unhandled rejection ends the whole process. Every promise the code makes — a query, an " +
        "acquire(), one chained on them — must be awaited, so its failure reaches the caller.",
    );
  };
  try {
    // Both pools free: each request's queries succeed, or the primary's or the replica's fails.
    const free = await runRequests({
      tracer,
      root: true,
      count: s.free.length,
      send: (r) =>
        s.free[r - 1] === "replica fails"
          ? send(failingReplica!)()
          : s.free[r - 1] === "primary fails, replica slow"
          ? send(slowReplica!, true)()
          : send(replica, s.free[r - 1] === "primary fails")(),
    });
    await settle(pools, 300);
    if (slowReplica) {
      // A count still running on a connection given back early ends within the replica's 50 ms: wait for its span.
      await new Promise((resolve) => setTimeout(resolve, 120));
    }
    checkRejections();
    checkLeases(free, "both pools free");
    for (const outcome of free) {
      const kind = s.free[outcome.request - 1];
      if (kind === "ok") checkReport(outcome, "both pools free");
      else checkFailed(outcome, "both pools free", kind === "replica fails" ? "replica" : "primary");
    }
    checkPools(free, "both pools free");

    for (const phase of s.phases) {
      const refuses = phase === "primary busy" ? primaryBusy : phase === "replica busy" ? replicaBusy : downReplica!;
      const expected = phase === "replica down"
        ? await downReplica!.acquire().then((lease) => lease.release(), (error) => error)
        : undefined;
      const run = () =>
        runRequests({
          tracer,
          root: true,
          count: s.perPhase,
          send: phase === "primary busy"
            ? send(replica, false, primaryBusy)
            : send(phase === "replica down" ? downReplica! : replicaBusy),
        });
      const outcomes = phase === "replica down" ? await run() : await holding(refuses, run);
      await settle(pools, 300);
      checkRejections();
      checkLeases(outcomes, phase);
      const expectedText = expected
        ? describeError(expected)
        : `PoolExhaustedError: pool "${refuses.name}" had no connection free`;
      checkRefused(outcomes, phase, refuses, expected, expectedText);
      if (phase !== "primary busy") {
        const backends = await settledBackends(primary);
        step.expect(
          primary.stats().active === 0 && backends.every((b) => b.state === "idle"),
          () =>
            `${pre}${outstanding(`After ${s.perPhase} request(s) with the ${phase}`)} pg_stat_activity shows the ` +
            `primary's backends as ${listOf(backends.map((b) => b.state))}.`,
        );
      }
    }

    // Requests at once queue for the replica's connections (and the primary's, when it is the smaller).
    const together = await runConcurrentRequests({
      tracer,
      count: s.together,
      send: (r) => sensorReport(primaryQueue, replicaQueue, new RequestFaults(s.togetherFails.includes(r))),
      delayMs: (r) => s.delays[r - 1] ?? 0,
    });
    await settle(pools, 300);
    checkRejections();
    const phase = `${s.together} requests at once`;
    checkLeases(together, phase);
    if (s.replicaMax === 1) {
      const replicaSpans = replicaTraces.exporter.getFinishedSpans();
      const overlap = handedOutWhileBusy(together.flatMap((o) => leaseTimelines(replicaSpans, o.traceId)));
      step.expect(
        overlap === undefined,
        () =>
          `${pre}With ${phase}, the replica's only connection was handed out (lease #${overlap!.later.leaseId}) ` +
          `while the previous request's query on it was still running (${
            ms(overlap!.earlier.busyUntil - overlap!.later.acquiredAt)
          } more): it went back to the pool before its query finished.`,
      );
    }
    for (const outcome of together) {
      if (s.togetherFails.includes(outcome.request)) checkFailed(outcome, phase, "primary");
      else checkReport(outcome, phase);
    }
    checkPools(together, phase);

    step.expect(
      pools.every((pool) => pool.stats().active === 0 && pool.stats().leaked === 0),
      () => `${pre}${outstanding("At the end")}`,
    );
  } finally {
    rejections.stop();
    for (const pool of pools) await pool.end();
    await slow?.drop();
  }
}

Deno.test(step.test("sensorReport() returns both connections on every path, once their queries are done", async () => {
  await runScenario(README_SCENARIO);
  await runScenario(seededScenario(step.random("step04 scenario")));
}));

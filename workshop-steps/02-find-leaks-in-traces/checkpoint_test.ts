/**
 * Checkpoint of step 2: `findLeakingTraces()` names exactly the traces whose
 * connections are still out. The expected answer comes from the leases
 * themselves (the checkpoint keeps each one it hands out), not from spans.
 *
 * The README's scenario runs first (16 requests through five handlers, one
 * after another, every 2nd query failing, on a fresh pool). Seeded ones then
 * vary what the exercise does not promise: the handlers, their order and which
 * of their queries fail; a leak on a request that succeeded and a failed
 * request that kept nothing; which of a request's two connections leaks; a
 * connection marked `connection_leaked` that came back later; a double
 * release; a connection taken or returned under a child span of the request
 * (not a sibling of its get_connection); requests that take no connection (one fails before it asks, some
 * find the pool exhausted); requests run one after another or all at once (so
 * lease ids interleave); lease ids that do not start at 1; spans of other
 * traces that have nothing to do with the pool; and the order of the spans.
 */
import type { Tracer } from "@opentelemetry/api";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { FAILING_SENSOR_QUERY, SENSOR_QUERY } from "leak-lab/demo/fault_schedule.ts";
import { type RequestOutcome, runRequests } from "leak-lab/demo/request_series.ts";
import type { Lease, TracedPool } from "leak-lab/pool.ts";
import { type Checkpoint, checkpoint } from "leak-lab/workshop/checkpoint.ts";
import {
  describeError,
  eventsNamed,
  listOf,
  runConcurrentRequests,
  shown,
  traceOf,
} from "leak-lab/workshop/checkpoint_checks.ts";
import { checkpointPool } from "leak-lab/workshop/checkpoint_database.ts";
import type { SeededRandom } from "leak-lab/workshop/checkpoint_seed.ts";
import { recordingTracer } from "leak-lab/workshop/recording_tracer.ts";
import { findLeakingTraces } from "./find_leaks.ts";

const step: Checkpoint = checkpoint({ edit: "find_leaks.ts" });

/** What a handler needs from the run: a recorded acquire, and timers the run waits for. */
interface Run {
  pool: TracedPool;
  take(): Promise<Lease>;
  later(ms: number, fn: () => void): void;
  /** Runs `fn` inside a child span of the request (the app's own span: rendering, a batch stage, …). */
  child<T>(name: string, fn: () => Promise<T> | T): Promise<T>;
}

/** One request: a handler, and whether its scheduled query fails. */
interface Planned {
  handler: HandlerName;
  fails: boolean;
}

const sensors = (conn: Lease, fails: boolean) => conn.query(fails ? FAILING_SENSOR_QUERY : SENSOR_QUERY);

/** The handlers: the same query, the same faults; only what happens to the connections differs. */
const HANDLERS: Record<string, (run: Run, fails: boolean) => Promise<unknown>> = {
  bad_query_with_leak: (run: Run, fails: boolean) =>
    run.pool.scope("bad_query_with_leak", async () => {
      const conn = await run.take();
      const { rows } = await sensors(conn, fails);
      conn.release(); // only on success
      return rows;
    }),
  good_query_no_leak: (run: Run, fails: boolean) =>
    run.pool.scope("good_query_no_leak", async () => {
      const conn = await run.take();
      try {
        return (await sensors(conn, fails)).rows;
      } finally {
        conn.release();
      }
    }),
  read_with_audit: (run: Run, fails: boolean) =>
    run.pool.scope("read_with_audit", async () => {
      await using audit = await run.take(); // returned on every path
      await audit.query("SELECT 1");
      const conn = await run.take();
      const { rows } = await sensors(conn, fails);
      conn.release(); // only on success: the second connection leaks
      return rows;
    }),
  import_batch: (run: Run, fails: boolean) =>
    run.pool.scope("import_batch", async () => {
      const source = await run.take();
      const target = await run.take();
      const { rows } = await sensors(source, fails);
      await target.query("SELECT 1");
      source.release(); // both only on success
      target.release();
      return rows;
    }),
  report_job: async (run: Run, fails: boolean) => {
    // No pool.scope(): nothing marks this leak, no connection_leaked event.
    const conn = await run.take();
    const { rows } = await sensors(conn, fails);
    conn.release(); // only on success
    return rows;
  },
  lock_then_read: (run: Run, fails: boolean) =>
    run.pool.scope("lock_then_read", async () => {
      const lock = await run.take();
      await lock.query("SELECT 1");
      const read = await run.take();
      let rows: unknown[];
      try {
        rows = (await sensors(read, fails)).rows;
      } finally {
        read.release(); // the second goes back on every path
      }
      lock.release(); // the first only on success
      return rows;
    }),
  cached_lookup: (run: Run, fails: boolean) =>
    run.pool.scope("cached_lookup", async () => {
      const conn = await run.take();
      let rows: unknown[];
      try {
        rows = (await sensors(conn, fails)).rows;
      } catch (error) {
        conn.release(); // returned when the query fails…
        throw error;
      }
      return rows; // …and forgotten when it succeeds
    }),
  deferred_release: (run: Run, fails: boolean) =>
    run.pool.scope("deferred_release", async () => {
      const conn = await run.take();
      try {
        return (await sensors(conn, fails)).rows;
      } finally {
        run.later(5, () => conn.release()); // comes back after the request ended: marked leaked, then returned
      }
    }),
  double_release: (run: Run, fails: boolean) =>
    run.pool.scope("double_release", async () => {
      const first = await run.take();
      const second = await run.take();
      await first.query("SELECT 1");
      const { rows } = await sensors(second, fails);
      first.release();
      first.release(); // meant second.release(): throws LeaseReleasedError, the second stays out
      return rows;
    }),
  release_in_child_span: (run: Run, fails: boolean) =>
    run.pool.scope("release_in_child_span", async () => {
      const conn = await run.take();
      try {
        return (await sensors(conn, fails)).rows;
      } finally {
        // Returned on every path, but under a span of its own: not a sibling of its get_connection.
        await run.child("render_rows", () => conn.release());
      }
    }),
  two_stage_import: (run: Run, fails: boolean) =>
    run.pool.scope("two_stage_import", async () => {
      const source = await run.take();
      // The second connection is taken inside a child span: its get_connection has another parent.
      const target = await run.child("stage_rows", () => run.take());
      const { rows } = await sensors(source, fails);
      await target.query("SELECT 1");
      source.release(); // both only on success
      target.release();
      return rows;
    }),
  health_check: () => Promise.resolve({ status: "ok" }),
  bad_input: () => Promise.reject(new RangeError('sensor id "abc" is not a number')), // before any connection
};
type HandlerName =
  | "bad_query_with_leak"
  | "good_query_no_leak"
  | "read_with_audit"
  | "import_batch"
  | "report_job"
  | "lock_then_read"
  | "cached_lookup"
  | "deferred_release"
  | "double_release"
  | "release_in_child_span"
  | "two_stage_import"
  | "health_check"
  | "bad_input";

/** How many connections a handler holds at once, at most. */
const NEEDS: Record<HandlerName, number> = {
  bad_query_with_leak: 1,
  good_query_no_leak: 1,
  read_with_audit: 2,
  import_batch: 2,
  report_job: 1,
  lock_then_read: 2,
  cached_lookup: 1,
  deferred_release: 1,
  double_release: 2,
  release_in_child_span: 1,
  two_stage_import: 2,
  health_check: 0,
  bad_input: 0,
};

/** How many connections a handler keeps (deferred ones count: they are back only later). */
function kept(p: Planned): number {
  switch (p.handler) {
    case "bad_query_with_leak":
    case "report_job":
    case "read_with_audit":
    case "lock_then_read":
      return p.fails ? 1 : 0;
    case "import_batch":
    case "two_stage_import":
      return p.fails ? 2 : 0;
    case "cached_lookup":
      return p.fails ? 0 : 1;
    case "deferred_release":
      return 1;
    case "double_release":
      return p.fails ? 2 : 1;
    default:
      return 0;
  }
}

interface Scenario {
  label: string;
  plan: Planned[];
  max: number;
  concurrent: boolean;
  /** Leases taken and returned before the spans are recorded: lease ids start after them. */
  warmUp: number;
  /** Requests sent once the plan's connections are all out (sequential only): they find the pool exhausted. */
  exhausted: HandlerName[];
  unrelated: boolean;
  shuffle?: SeededRandom;
  acquireTimeoutMs: number;
}

const README_PLAN: HandlerName[] = [
  "bad_query_with_leak",
  "bad_query_with_leak",
  "good_query_no_leak",
  "good_query_no_leak",
  "read_with_audit",
  "read_with_audit",
  "report_job",
  "report_job",
  "import_batch",
  "import_batch",
  "bad_query_with_leak",
  "bad_query_with_leak",
  "good_query_no_leak",
  "good_query_no_leak",
  "report_job",
  "report_job",
];

const README_SCENARIO: Scenario = {
  label: "16 requests one after another, every 2nd query failing",
  plan: README_PLAN.map((handler, i) => ({ handler, fails: i % 2 === 1 })),
  max: 10,
  concurrent: false,
  warmUp: 0,
  exhausted: [],
  unrelated: false,
  acquireTimeoutMs: 300,
};

/** Every kind of request, in a seeded order with seeded failures, each interesting case at least once. */
function seededPlan(random: SeededRandom): Planned[] {
  const plan: Planned[] = [
    { handler: "bad_query_with_leak", fails: true },
    { handler: "good_query_no_leak", fails: true },
    { handler: "read_with_audit", fails: true },
    { handler: "lock_then_read", fails: true },
    { handler: "lock_then_read", fails: false },
    { handler: "import_batch", fails: true },
    { handler: "report_job", fails: true },
    { handler: "cached_lookup", fails: false },
    { handler: "cached_lookup", fails: true },
    { handler: "deferred_release", fails: random.int(0, 1) === 1 },
    { handler: "double_release", fails: false },
    { handler: "release_in_child_span", fails: random.int(0, 1) === 1 },
    { handler: "two_stage_import", fails: random.int(0, 1) === 1 },
    { handler: "two_stage_import", fails: true },
    { handler: "health_check", fails: false },
    { handler: "bad_input", fails: false },
  ];
  const extra = random.pick<HandlerName>([
    "bad_query_with_leak",
    "good_query_no_leak",
    "read_with_audit",
    "report_job",
  ]);
  plan.push({ handler: extra, fails: random.int(0, 1) === 1 });
  return random.shuffle(plan);
}

/**
 * How many leases to take before the plan so that the import_batch that keeps
 * both its connections gets ids 9 and 10 (or 99 and 100): ascending as numbers,
 * not as text.
 */
function acrossTen(plan: Planned[], max: number): number {
  const at = plan.findIndex((p) => p.handler === "import_batch" && p.fails);
  const before = plan.slice(0, at).reduce((sum, p) => sum + NEEDS[p.handler], 0);
  let target = 9;
  while (target - 1 - before < max) target = target * 10 + 9;
  return target - 1 - before;
}

function sequentialScenario(random: SeededRandom): Scenario {
  const plan = seededPlan(random);
  let out = 0;
  let peak = 0;
  for (const p of plan) {
    peak = Math.max(peak, out + NEEDS[p.handler]);
    out += kept(p);
  }
  return {
    label: `${plan.length} requests one after another, then more until the pool runs dry`,
    plan,
    max: peak,
    concurrent: false,
    warmUp: acrossTen(plan, peak),
    exhausted: random.shuffle<HandlerName>(["good_query_no_leak", "import_batch", "report_job"]).slice(0, 2),
    unrelated: true,
    shuffle: random,
    acquireTimeoutMs: 60,
  };
}

function concurrentScenario(random: SeededRandom): Scenario {
  const plan = seededPlan(random);
  return {
    label: `${plan.length} requests all at once`,
    plan,
    max: plan.reduce((sum, p) => sum + NEEDS[p.handler], 0),
    concurrent: true,
    warmUp: plan.reduce((sum, p) => sum + NEEDS[p.handler], 0) + random.int(0, 6),
    exhausted: [],
    unrelated: true,
    shuffle: random,
    acquireTimeoutMs: 2000,
  };
}

/** Spans of traces that never touch the pool: what else an exporter holds. */
function unrelatedSpans(tracer: Tracer): void {
  const metrics = tracer.startSpan("GET /metrics", { root: true });
  metrics.addEvent("cache_miss", { "cache.key": "metrics" });
  metrics.end();
  const upstream = tracer.startSpan("http.client GET weather-api", { root: true });
  upstream.setStatus({ code: 2, message: "503 Service Unavailable" });
  upstream.end();
}

/**
 * Where a trace kept two connections or more, puts the `get_connection` of the
 * later lease before the earlier one's in `spans`, if the shuffle did not: the
 * array's order says nothing about the order of the leases.
 */
function descendingSomewhere(spans: ReadableSpan[], expected: Map<string, number[]>): void {
  const acquiredIn = (id: number) =>
    spans.findIndex((span) =>
      span.events.some((e) => e.name === "connection_acquired" && Number(e.attributes?.["lease.id"]) === id)
    );
  const [first, second] = [...expected.values()].find((ids) => ids.length >= 2) ?? [];
  if (first === undefined || second === undefined) return;
  const [a, b] = [acquiredIn(first), acquiredIn(second)];
  if (a >= 0 && b >= 0 && a < b) [spans[a], spans[b]] = [spans[b], spans[a]];
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
  const { tracer, exporter } = recordingTracer();
  const pool = checkpointPool("step02", { max: scenario.max, tracer, acquireTimeoutMs: scenario.acquireTimeoutMs });
  const leases: Lease[] = [];
  const timers: Promise<void>[] = [];
  const run: Run = {
    pool,
    take: async () => {
      const lease = await pool.acquire();
      leases.push(lease);
      return lease;
    },
    later: (ms, fn) => timers.push(new Promise((resolve) => setTimeout(() => resolve(fn()), ms))),
    child: (name, fn) =>
      tracer.startActiveSpan(name, async (span) => {
        try {
          return await fn();
        } finally {
          span.end();
        }
      }),
  };
  const planned: HandlerName[] = [];
  try {
    const taken = await prewarm(pool, Math.min(scenario.max, scenario.warmUp));
    for (let i = taken; i < scenario.warmUp; i++) (await pool.acquire()).release();
    exporter.reset();

    const sendPlanned = (request: number): Promise<unknown> => {
      const p = scenario.plan[request - 1];
      planned[request - 1] = p.handler;
      return HANDLERS[p.handler](run, p.fails);
    };
    let outcomes: RequestOutcome<unknown>[];
    if (scenario.concurrent) {
      outcomes = await runConcurrentRequests({ tracer, count: scenario.plan.length, send: sendPlanned });
    } else {
      outcomes = await runRequests({ tracer, root: true, count: scenario.plan.length, send: sendPlanned });
    }
    await Promise.all(timers);
    if (scenario.exhausted.length > 0) {
      // Fill the pool with leaks, then send requests that find it exhausted.
      const fill = scenario.max - pool.stats().active;
      const tail: Planned[] = [
        ...Array.from({ length: fill }, () => ({ handler: "bad_query_with_leak" as const, fails: true })),
        ...scenario.exhausted.map((handler) => ({ handler, fails: false })),
      ];
      const offset = outcomes.length;
      const more = await runRequests({
        tracer,
        root: true,
        count: tail.length,
        send: (request): Promise<unknown> => {
          planned[offset + request - 1] = tail[request - 1].handler;
          return HANDLERS[tail[request - 1].handler](run, tail[request - 1].fails);
        },
      });
      outcomes = [...outcomes, ...more.map((o) => ({ ...o, request: o.request + offset }))];
    }
    if (scenario.unrelated) unrelatedSpans(tracer);

    const expected = new Map<string, number[]>();
    for (const lease of leases.filter((l) => l.state === "active")) {
      expected.set(lease.traceId!, [...(expected.get(lease.traceId!) ?? []), lease.id].sort((a, b) => a - b));
    }
    const recorded = exporter.getFinishedSpans();
    const spans = scenario.shuffle ? scenario.shuffle.shuffle(recorded) : [...recorded];
    if (scenario.shuffle) descendingSomewhere(spans, expected);
    const found = findLeakingTraces(spans);

    const requestOf = new Map(outcomes.map((o) => [o.traceId, o]));
    for (const traceId of expected.keys()) {
      step.expect(requestOf.has(traceId), () => `checkpoint bug: a lease of trace ${traceId} is out, no request's`);
    }
    const setup = `${scenario.label}, pool max ${scenario.max}`;
    const describe = (traceId: string) => {
      const outcome = requestOf.get(traceId);
      if (!outcome) {
        const names = traceOf(spans, traceId).map((s) => s.name);
        return `trace ${traceId} (not one of the checkpoint's requests: ${
          names.length ? `its spans are ${listOf(names.map((n) => `"${n}"`), 3)}` : "no span has that trace id"
        })`;
      }
      return `trace ${traceId} (request ${outcome.request}, ${planned[outcome.request - 1]}, ${
        outcome.ok ? "succeeded" : `failed with ${describeError(outcome.error)}`
      })`;
    };
    const ids = (trace: readonly ReadableSpan[], event: string) =>
      eventsNamed(trace, event).map((e) => Number(e.attributes["lease.id"]));
    const hashes = (list: readonly number[]) => listOf(list.map((id) => `#${id}`));
    const position = new Map(spans.map((span, i) => [span, i]));
    /** The first of `leaseIds` whose return_connection comes before its get_connection in the array. */
    const returnedFirst = (trace: readonly ReadableSpan[], leaseIds: readonly number[]) => {
      const at = (event: string, id: number) => {
        const span = eventsNamed(trace, event).find((e) => Number(e.attributes["lease.id"]) === id)?.span;
        return span ? position.get(span) ?? -1 : -1;
      };
      return leaseIds.find((id) => {
        const back = at("connection_returned_safely", id);
        return back >= 0 && back < at("connection_acquired", id);
      });
    };
    /** The first of `leaseIds` whose return_connection has another parent span than its get_connection. */
    const elsewhere = (trace: readonly ReadableSpan[], leaseIds: readonly number[]) => {
      const parent = (event: string, id: number) =>
        eventsNamed(trace, event).find((e) => Number(e.attributes["lease.id"]) === id)?.span.parentSpanContext
          ?.spanId;
      return leaseIds.find((id) => {
        const back = parent("connection_returned_safely", id);
        return back !== undefined && back !== parent("connection_acquired", id);
      });
    };
    const parentNote = (trace: readonly ReadableSpan[], leaseIds: readonly number[]) => {
      const id = elsewhere(trace, leaseIds);
      const names = new Map(trace.map((span) => [span.spanContext().spanId, span.name]));
      const parentName = (event: string) =>
        names.get(
          eventsNamed(trace, event).find((e) => Number(e.attributes["lease.id"]) === id)?.span.parentSpanContext
            ?.spanId ?? "",
        ) ?? "another span";
      return id === undefined
        ? ""
        : ` The return_connection of #${id} sits under "${
          parentName("connection_returned_safely")
        }", its get_connection under "${parentName("connection_acquired")}": the same trace, different parent spans. ` +
          "A request's spans form a tree; what ties a return to its connection is the trace and the lease.id.";
    };
    const orderNote = (id: number | undefined) =>
      id === undefined ? "" : " The spans come in no particular order: in the array you were given, the " +
        `return_connection of #${id} comes before its get_connection.`;

    step.expect(
      Array.isArray(found),
      () => `findLeakingTraces() returned ${shown(found)} (${setup}): it should return an array.`,
    );
    const seen = new Set<string>();
    for (const leak of found) {
      step.expect(
        !seen.has(leak.traceId),
        () =>
          `findLeakingTraces() named ${describe(leak.traceId)} more than once (${setup}). Give one entry per ` +
          `trace, with the ids of all the connections it kept: ${hashes(expected.get(leak.traceId) ?? [])}` +
          (new Set(
              eventsNamed(traceOf(spans, leak.traceId), "connection_acquired").map((e) =>
                e.span.parentSpanContext?.spanId
              ),
            ).size > 1
            ? ": its connections were taken under different parent spans, but they are one request's, one trace."
            : "."),
      );
      seen.add(leak.traceId);
      step.expect(expected.has(leak.traceId), () => {
        const trace = traceOf(spans, leak.traceId);
        const acquired = ids(trace, "connection_acquired");
        const returned = ids(trace, "connection_returned_safely");
        const outcome = requestOf.get(leak.traceId);
        if (acquired.length === 0) {
          const exhausted = trace.some((s) => s.attributes["leaklab.exhausted"] === true);
          return `findLeakingTraces() named ${describe(leak.traceId)} as leaking (${setup}), but it took no ` +
            "connection at all: its trace has no connection_acquired" +
            (exhausted
              ? " (its get_connection failed: the pool was exhausted, so it was handed no connection)"
              : outcome && !outcome.ok
              ? " (it failed before it asked the pool for one)"
              : "") +
            ". A leak is a connection taken and never given back; a failed request that took none kept none.";
        }
        const flagged = ids(trace, "connection_leaked").filter((id) => returned.includes(id));
        const early = returnedFirst(trace, returned);
        return `findLeakingTraces() named ${describe(leak.traceId)} as leaking (${setup}), but every ` +
          `connection it took came back: its trace has connection_returned_safely for ${hashes(returned)}. A ` +
          "failed request is not necessarily a leaking one: errors are what the logs show, the missing return is " +
          "what the trace shows." + parentNote(trace, returned) +
          (flagged.length
            ? ` ${hashes(flagged)} carries a connection_leaked event (the request ended while it was out), but it ` +
              "came back later: connection_leaked says a connection outlived its request, not that it never " +
              "came back."
            : "") +
          orderNote(early);
      });
    }
    for (const [traceId, leaseIds] of expected) {
      const reported = found.find((leak) => leak.traceId === traceId);
      const trace = traceOf(spans, traceId);
      const outcome = requestOf.get(traceId)!;
      const unscoped = planned[outcome.request - 1] === "report_job";
      const returned = ids(trace, "connection_returned_safely");
      const doubled = ids(trace, "connection_double_release");
      step.expect(
        reported !== undefined,
        () =>
          `findLeakingTraces() missed ${describe(traceId)} (${setup}): it took connection(s) ${hashes(leaseIds)} ` +
          `(connection_acquired) and never returned them (no connection_returned_safely with that lease.id).` +
          (outcome.ok ? " This request succeeded: a leak need not come with an error." : "") +
          (unscoped
            ? " This request ran outside pool.scope(), so no connection_leaked event marks it: compare what was " +
              "acquired with what was returned."
            : returned.length > 0
            ? ` Its trace does have a connection_returned_safely, but for ${hashes(returned)}, another connection ` +
              "of the same request: match each return to its connection_acquired by lease.id."
            : "") +
          (doubled.length > 0
            ? ` Its second return_connection span is a connection_double_release of ${
              hashes(doubled)
            }, not a return of ${hashes(leaseIds)}.`
            : ""),
      );
      const acquired = ids(trace, "connection_acquired");
      const got = Array.isArray(reported.leaseIds) ? [...reported.leaseIds] : [];
      step.expect(
        Array.isArray(reported.leaseIds) && got.every((id) => typeof id === "number"),
        () =>
          `findLeakingTraces() gave leaseIds ${shown(reported.leaseIds)} for ${describe(traceId)}: leaseIds is an ` +
          `array of numbers, as the lease.id attribute is (here ${hashes(leaseIds)}).`,
      );
      const sorted = [...got].sort((a, b) => a - b);
      step.expect(
        JSON.stringify(sorted) === JSON.stringify(leaseIds),
        () => {
          const back = sorted.filter((id) => returned.includes(id));
          const foreign = sorted.filter((id) => !acquired.includes(id));
          return `findLeakingTraces() gave leaseIds [${got.join(", ")}] for ${describe(traceId)} (${setup}), but ` +
            `only ${hashes(leaseIds)} stayed out` +
            (back.length
              ? `: ${hashes(back)} came back (its connection_returned_safely is in the trace). List only the ` +
                "connections that stayed out." + orderNote(returnedFirst(trace, back))
              : foreign.length
              ? `: ${hashes(foreign)} is not a connection this trace took (it took ${hashes(acquired)}): the ids ` +
                "are the lease.id attributes of its events."
              : leaseIds.some((id) => !sorted.includes(id))
              ? `: it also kept ${
                hashes(leaseIds.filter((id) => !sorted.includes(id)))
              } (connection_acquired, no connection_returned_safely). List every connection it kept.`
              : new Set(got).size < got.length
              ? ": list each connection once."
              : ".");
        },
      );
      step.expect(
        JSON.stringify(got) === JSON.stringify(leaseIds),
        () =>
          `findLeakingTraces() gave leaseIds [${got.join(", ")}] for ${describe(traceId)} (${setup}): the right ` +
          `connections, but leaseIds is ascending: [${leaseIds.join(", ")}]` +
          (JSON.stringify(got) === JSON.stringify(leaseIds.map(String).sort().map(Number))
            ? `, in numeric order. [${got.join(", ")}] is their order compared as text ("${got[0]}" before ` +
              `"${got[1]}"), and the spans come in no particular order either.`
            : ". The spans come in no particular order."),
      );
    }
  } finally {
    await Promise.all(timers);
    await pool.end();
  }
}

Deno.test(step.test("findLeakingTraces() names exactly the traces that kept a connection", async () => {
  await judge(README_SCENARIO);
  const random = step.random("scenarios");
  await judge(sequentialScenario(random));
  await judge(concurrentScenario(random));
  step.expect(findLeakingTraces([]).length === 0, "findLeakingTraces([]) should return [] (no spans, no leaks).");
}));

/**
 * Checkpoint of step 5: `withLeaseGuard()` fails a test body that leaves a
 * connection out, names where each was taken, and reclaims them — and stays
 * out of the way of clean bodies and of connections that are not the body's.
 * A guard still running 2 s after its body settled fails at once (a guard
 * waiting for `leakThresholdMs` would hold every test that long).
 *
 * Each test runs the README's scenario first (one connection taken outside any
 * scope and kept, `42` returned; a division by zero; a count of the sensors),
 * then scenarios drawn from the seed, which vary what the exercise does not
 * promise: the pool's size, how many connections the body takes and which of
 * them it keeps (all of them, exhausting the pool, or some; every run has a
 * body that keeps two or more), how it takes them
 * (`acquire()`, `connect()`, inside a `pool.scope()` of its own), a kept
 * connection its owner releases later from a timer, what the body returns
 * (falsy values included) or throws (pg errors, other errors, a string, "" or 0), the
 * caller's own connections taken before the guard, an outer `pool.scope()`
 * the guard runs in, and leaks an earlier request left — which the body may
 * even give back.
 */
import { sqlstate } from "leak-lab/database.ts";
import type { LeakReport, Lease, TracedPool } from "leak-lab/pool.ts";
import { type Checkpoint, checkpoint } from "leak-lab/workshop/checkpoint.ts";
import { describeError, listOf, shown } from "leak-lab/workshop/checkpoint_checks.ts";
import type { SeededRandom } from "leak-lab/workshop/checkpoint_seed.ts";
import { eventually } from "leak-lab/util/eventually.ts";
import { adminQuery, backendsOf, checkpointPool } from "leak-lab/workshop/checkpoint_database.ts";
import { LeakedLeaseError, withLeaseGuard } from "./lease_guard.ts";

const step: Checkpoint = checkpoint({ edit: "lease_guard.ts" });

/**
 * A pool for the guard's scenarios. None of them exhausts a pool on purpose (a body that keeps every connection takes
 * exactly what is left), so the acquire timeout is long: opening connections on a busy machine takes a while.
 */
function guardPool(prefix: string, max?: number): TracedPool {
  return checkpointPool(prefix, { acquireTimeoutMs: 3_000, ...(max === undefined ? {} : { max }) });
}

/** What the guard did with a body: its value, or what it threw (`threw` tells a thrown `undefined` apart). */
interface Guarded<T> {
  threw: boolean;
  /** When the guard called `pool.leaks()`, on the clock of `pool.history()`: to tell when it looked. */
  leakReads: number[];
  /** When the body's promise settled, on the same clock. */
  bodyEndedAt: number;
  value?: T;
  error?: unknown;
}

/**
 * How long the guard may still run once the body has settled (and before it calls the body): a guard answers as
 * the body's scope ends, so a guard still running this long after waits for something, and every test would too.
 */
const GUARD_BOUND_MS = 2_000;

async function guarded<T>(pool: TracedPool, body: () => Promise<T>): Promise<Guarded<T>> {
  // The pool stays the real one: its leaks() is only timed, for the message about when the guard looked.
  const leakReads: number[] = [];
  const leaks = pool.leaks;
  pool.leaks = function (this: TracedPool) {
    leakReads.push(performance.timeOrigin + performance.now());
    return leaks.call(this);
  };
  const now = () => performance.timeOrigin + performance.now();
  const calledAt = now();
  let bodyStartedAt = Infinity;
  let bodyEndedAt = Infinity;
  const timed = async () => {
    bodyStartedAt = Math.min(bodyStartedAt, now());
    try {
      return await body();
    } finally {
      bodyEndedAt = now();
    }
  };
  // Watches the guard: once the body has settled (or while it has not been called) it may take GUARD_BOUND_MS.
  let watch: ReturnType<typeof setTimeout> | undefined;
  const overdue = new Promise<"overdue">((resolve) => {
    const look = () => {
      const since = bodyEndedAt !== Infinity ? bodyEndedAt : bodyStartedAt === Infinity ? calledAt : Infinity;
      if (now() - since > GUARD_BOUND_MS) resolve("overdue");
      else watch = setTimeout(look, 20);
    };
    watch = setTimeout(look, 20);
  });
  try {
    const guard = withLeaseGuard(pool, timed).then(
      (value): Guarded<T> => ({ threw: false, leakReads, bodyEndedAt, value }),
      (error: unknown): Guarded<T> => ({ threw: true, leakReads, bodyEndedAt, error }),
    );
    const result = await Promise.race([guard, overdue]);
    if (result === "overdue") {
      const waited = Math.round(now() - (bodyEndedAt === Infinity ? calledAt : bodyEndedAt));
      step.fail(
        bodyStartedAt === Infinity
          ? `withLeaseGuard() had not called the test body ${waited} ms after it was called: a guard runs the body ` +
            "at once, and a test waits for whatever the guard waits for."
          : `withLeaseGuard() was still running ${waited} ms after the test body had settled, and the checkpoint ` +
            "stopped waiting: a guard must answer once the body is over, or every test it guards takes that long. " +
            `A guard that waits for the pool's own threshold watch (pool.leakThresholdMs, ${pool.leakThresholdMs} ms ` +
            "here) to mark the leak waits far too long, and by then the watch marks any connection held that long " +
            "as leaked, the caller's own too. The pool can tell which connections the body left out the moment the " +
            "body ends.",
      );
    }
    return result;
  } finally {
    clearTimeout(watch);
    pool.leaks = leaks;
  }
}

/** What the guard gave, for a message. */
function gave(result: Guarded<unknown>): string {
  return result.threw ? describeThrown(result.error) : `returned ${shown(result.value)}`;
}

/** A thrown value, for a message: errors by name and first sentence, anything else as a learner would write it. */
function describeThrown(error: unknown): string {
  return error instanceof Error || sqlstate(error) ? `threw ${describeError(error)}` : `threw ${shown(error)}`;
}

/** Postgres closes a reclaimed backend a moment after the socket goes: wait for it, briefly. */
async function backendsGone(poolName: string, pids: readonly number[]): Promise<number[]> {
  const backends = await eventually(
    () => backendsOf(poolName),
    (now) => !now.some((b) => pids.includes(b.pid)),
  );
  return pids.filter((pid) => backends.some((b) => b.pid === pid));
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** One connection a body or the caller took: a lease from `acquire()`, or a pg client from `connect()`. */
interface Taken {
  how: "acquire()" | "connect()";
  pid: number;
  /** The pool's lease id (a `connect()` client is a lease too). */
  id: number;
  /** The lease, for `acquire()`: its site and state. */
  lease?: Lease;
  /** Taken inside a `pool.scope()` the body opened itself. */
  nested: boolean;
  query(text: string): Promise<unknown>;
  release(): void;
}

async function take(pool: TracedPool, how: Taken["how"], nested = false): Promise<Taken> {
  if (how === "acquire()") {
    const lease = await pool.acquire();
    return {
      how,
      pid: lease.pid,
      id: lease.id,
      lease,
      nested,
      query: (text) => lease.query(text),
      release: () => lease.release(),
    };
  }
  const client = await pool.connect();
  const pid = (client as unknown as { processID: number }).processID;
  // The lease behind the client: the pool's last acquire (bodies take their connections one at a time).
  const id = pool.history().findLast((sample) => sample.change === "acquire")?.leaseId ?? 0;
  return { how, pid, id, nested, query: (text) => client.query(text), release: () => client.release() };
}

/** "connection #3 (backend pid 123, by acquire() inside the body's own pool.scope())". */
function named(taken: Taken): string {
  return `connection #${taken.id} (backend pid ${taken.pid}, taken by ${taken.how}${
    taken.nested ? " inside the body's own pool.scope()" : ""
  })`;
}

/** The facts a scenario fixes about the caller, around the guard. */
interface Around {
  /** "Scenario 2 of 3 (…)": how every message about it starts, after the README's. */
  name: string;
  max: number;
  /** Connections the caller takes before the guard starts and still holds after it. */
  held: number;
  /** The guard runs inside a `pool.scope()` of the caller's (the caller's connections are taken in it). */
  outerScope: boolean;
  /** Leaks an earlier request's scope left, detected before the guard starts. */
  earlierLeaks: number;
  /** Another request, started before the guard, takes a connection while the body runs and holds it past the guard. */
  inFlight: boolean;
}

/** What the caller's side hands the scenario: its connections, the earlier leaks, the request in flight. */
interface Caller {
  held: Taken[];
  earlier: Lease[];
  /** The body awaits this first: the request in flight (if any) takes its connection meanwhile. */
  during(): Promise<void>;
  /** The request in flight's connection, once taken. */
  inFlight?: Lease;
}

/** The caller's side of a scenario: its connections, the earlier leaks, the request in flight, the outer scope. */
async function around<T>(pool: TracedPool, facts: Around, run: (caller: Caller) => Promise<T>): Promise<T> {
  const earlier: Lease[] = [];
  for (let i = 0; i < facts.earlierLeaks; i++) {
    await pool.scope("earlier_request", async () => {
      earlier.push(await pool.acquire()); // kept: marked leaked when this scope ends
    });
  }
  // Another request, in its own async context (not the guard's): it takes a connection when the body starts and
  // holds it until the caller is done.
  const go = Promise.withResolvers<void>();
  const tried = Promise.withResolvers<void>();
  const finish = Promise.withResolvers<void>();
  const caller: Caller = { held: [], earlier, during: () => Promise.resolve() };
  const request = facts.inFlight
    ? (async () => {
      await go.promise;
      let lease: Lease;
      try {
        lease = caller.inFlight = await pool.acquire();
      } finally {
        tried.resolve();
      }
      await finish.promise;
      if (lease.state === "active") lease.release();
    })()
    : Promise.resolve();
  if (facts.inFlight) {
    let started: Promise<void> | undefined;
    caller.during = () =>
      started ??= (async () => {
        go.resolve();
        await tried.promise;
      })();
  }
  const body = async () => {
    for (let i = 0; i < facts.held; i++) caller.held.push(await take(pool, i % 2 === 0 ? "acquire()" : "connect()"));
    try {
      return await run(caller);
    } finally {
      for (const taken of caller.held) {
        try {
          if (!taken.lease || taken.lease.state === "active") taken.release();
        } catch {
          // a guard that closed the caller's connection was reported already; the release must not hide that
        }
      }
    }
  };
  try {
    return facts.outerScope ? await pool.scope("caller_test", body) : await body();
  } finally {
    go.resolve();
    finish.resolve();
    await request.catch(() => {});
  }
}

/** What a leaking body does. */
interface LeakingBody extends Around {
  /** How it takes each connection, in order. */
  takes: Taken["how"][];
  /** Which it keeps (at least one). */
  kept: boolean[];
  /** Which it takes inside a `pool.scope()` of its own. */
  nested: boolean[];
  /** A kept connection released from a timer `deferMs` after the body ended (-1: none). */
  deferred: number;
  /** How long after the body ended its owner releases the deferred connection. */
  deferMs: number;
  /** The body gives back the earlier request's leaked connection (when there is one). */
  returnsEarlier: boolean;
  /** What it returns, or what it throws. */
  ends: { returns: unknown } | Thrown;
}

/** What the body's `throws` threw, kept so the cause can be compared by identity. */
let lastThrown: unknown;

/** Something a body throws, on one of its connections; it records what it threw in `lastThrown`. */
interface Thrown {
  what: string;
  throws: (query: (text: string) => Promise<unknown>) => Promise<never>;
}

/** A query that fails: its error is recorded and thrown. */
const failing = (text: string) => (query: (text: string) => Promise<unknown>) =>
  query(text).then(
    () => Promise.reject(new Error(`checkpoint bug: ${text} succeeded`)),
    (error) => Promise.reject(lastThrown = error),
  );

/** Things a body may throw. */
const THROWS: Record<string, Thrown> = {
  division: { what: "a query error (SQLSTATE 22012, division by zero)", throws: failing("SELECT 1 / 0") },
  badInteger: {
    what: "a query error (SQLSTATE 22P02, invalid input syntax for type integer)",
    throws: failing("SELECT 'many'::int"),
  },
  noColumn: {
    what: "a query error (SQLSTATE 42703, a column that does not exist)",
    throws: failing("SELECT no_such_column FROM sensors"),
  },
  typeError: {
    what: "a TypeError (a property read on `undefined`)",
    throws: async (query) => {
      await query("SELECT 1 AS one");
      try {
        const rows = undefined as unknown as { length: number };
        return Promise.reject(new RangeError(`checkpoint bug: ${rows.length}`));
      } catch (error) {
        lastThrown = error;
        throw error;
      }
    },
  },
  assertion: {
    what: "an AssertionError from the test's own assert",
    throws: async (query) => {
      await query("SELECT 1 AS one");
      class AssertionError extends Error {
        override name = "AssertionError";
      }
      throw (lastThrown = new AssertionError("Expected 3 sensors, got 2"));
    },
  },
  string: {
    what: 'the string "sensor feed unavailable" (not an Error)',
    throws: async (query) => {
      await query("SELECT 1 AS one");
      throw (lastThrown = "sensor feed unavailable");
    },
  },
  emptyString: {
    what: 'the empty string "" (a falsy value, not an Error)',
    throws: async (query) => {
      await query("SELECT 1 AS one");
      throw (lastThrown = "");
    },
  },
  zero: {
    what: "the number 0 (a falsy value, not an Error)",
    throws: async (query) => {
      await query("SELECT 1 AS one");
      throw (lastThrown = 0);
    },
  },
};

/** Values a body may return: falsy ones included, an object and an array by identity. */
function returnedValues(): unknown[] {
  return [0, "", false, null, undefined, { sensors: 3 }, ["sensor-01"], 7];
}

/** Runs a leaking body under the guard, then judges what the guard threw, reported and reclaimed. */
async function judgeLeakingBody(pool: TracedPool, scenario: LeakingBody): Promise<void> {
  const where = scenario.name;
  await around(pool, scenario, async (caller) => {
    const { earlier } = caller;
    const taken: Taken[] = [];
    let deferredRelease: Promise<void> | undefined;
    let releasedAt = Infinity;
    lastThrown = undefined;
    const result = await guarded(pool, async () => {
      try {
        await caller.during();
        for (const [i, how] of scenario.takes.entries()) {
          const conn = scenario.nested[i]
            ? await pool.scope("inner_request", () => take(pool, how, true))
            : await take(pool, how);
          taken.push(conn);
        }
        if (scenario.returnsEarlier) { for (const lease of earlier) lease.release(); }
        for (const [i, conn] of taken.entries()) if (!scenario.kept[i]) conn.release();
        // It throws on a connection it keeps: the query that fails is why the release is never reached.
        if ("throws" in scenario.ends) await scenario.ends.throws(taken.find((_, i) => scenario.kept[i])!.query);
        return "returns" in scenario.ends ? scenario.ends.returns : undefined;
      } finally {
        // Its owner gives it back `deferMs` after the body ended, too late; a guard that closed it with
        // release(true) makes that release throw. (Started as the body settles, however slow the machine.)
        const late = taken[scenario.deferred];
        if (late) {
          deferredRelease = sleep(scenario.deferMs).then(() => {
            releasedAt = performance.timeOrigin + performance.now();
            late.release();
          }).catch(() => {});
        }
      }
    });
    await deferredRelease;
    const kept = taken.filter((_, i) => scenario.kept[i]);
    const keptList = kept.map(named).join(", ");
    const ended = "throws" in scenario.ends
      ? `threw ${scenario.ends.what}`
      : `returned ${shown(scenario.ends.returns)}`;
    step.expect(
      result.threw,
      () =>
        `${where}: the body took ${taken.length} connection(s), kept ${kept.length} of them (${keptList}) and ` +
        `${ended}; withLeaseGuard() ${gave(result)}: it should have failed the test with LeakedLeaseError. ` +
        missedWhy(pool, kept.map((conn) => conn.id), result),
    );
    const error = result.error;
    step.expect(
      error instanceof LeakedLeaseError && error.name === "LeakedLeaseError",
      () =>
        `${where}: the body kept ${kept.length} connection(s) (${keptList}) and ${ended}; withLeaseGuard() ` +
        `${describeThrown(error)}` +
        ("throws" in scenario.ends && error === lastThrown
          ? ", the body's own error, and the leak went unreported. The leak is the bug to report (the error path " +
            "is where leaks hide): throw LeakedLeaseError with the body's error as its cause."
          : ": a body that leaves connections out should fail with LeakedLeaseError."),
    );
    const late = taken[scenario.deferred];
    const deferred = late && {
      conn: late,
      afterMs: Math.round(releasedAt - result.bodyEndedAt),
      readAfterMs: Math.round(Math.max(...result.leakReads) - result.bodyEndedAt),
    };
    judgeLeakList(where, error.leaks ?? [], kept, caller, deferred);
    judgeSites(where, error);
    if ("throws" in scenario.ends) {
      step.expect(
        error.cause === lastThrown,
        () =>
          `${where}: the body ${ended} and left ` +
          `connections out; LeakedLeaseError's cause should be that very value, unchanged, so the test output ` +
          `shows both; it is ${error.cause === undefined ? "not set" : shown(String(error.cause))}.`,
      );
    } else {
      step.expect(
        error.cause === undefined,
        () =>
          `${where}: the body returned normally, so LeakedLeaseError has no cause to carry; it has ${
            shown(String(error.cause))
          }.`,
      );
    }
    await judgeReclaimed(pool, where, kept, caller);
  });
}

/**
 * Why a guard that returned missed the leaks, from the pool's history and when the guard read pool.leaks(): it
 * reclaimed them unreported, it read the leaks before the scope had marked them, it read them after and filtered
 * them out, or nothing ever marked them.
 */
function missedWhy(
  pool: TracedPool,
  ids: readonly number[],
  { leakReads, bodyEndedAt }: Pick<Guarded<unknown>, "leakReads" | "bodyEndedAt">,
): string {
  const history = pool.history().filter((sample) => ids.includes(sample.leaseId ?? 0));
  const marked = history.filter((sample) => sample.change === "leak").map((sample) => sample.at);
  const { active, leaked } = pool.stats();
  if (history.some((sample) => sample.change === "reclaim")) {
    return "Your guard reclaimed the connection(s) (pool.reset() ran) without reporting them: once reset, they are " +
      "off the books and pool.leaks() no longer lists them. Read the leaks, and throw, before pool.reset() " +
      "reclaims them.";
  }
  if (marked.length > 0 && !leakReads.some((at) => at >= bodyEndedAt)) {
    return "Your guard never read pool.leaks() after the body had ended (its last look came before), so it could " +
      "not see what the body left out. A guard that first compares pool.stats() counts misses a body that gives " +
      "back other connections while it keeps its own: the count says nothing about which connections " +
      "are the body's. Read pool.leaks() every time, once the body's scope has ended.";
  }
  if (marked.length > 0 && !leakReads.some((at) => at >= Math.max(...marked))) {
    return "The pool did mark the connection as leaked, but only when the scope ended, after your guard had " +
      "already read pool.leaks(): the check ran before the scope around the body was over (the whole guard " +
      "inside pool.scope(), or the leaks read before the scope's promise settled). Run only the body in the " +
      "scope, and read the leaks once that scope has ended.";
  }
  if (marked.length > 0) {
    return "The pool had marked the connection(s) as leaked before your guard last read pool.leaks(), and it " +
      "listed them, yet the guard did not report them: it took them for leaks from before the guard started. " +
      "Note which leases were leaked before the body runs, and report every other one pool.leaks() lists after it.";
  }
  return `pool.leaks() lists only what the pool has detected as leaked, and nothing had detected ${
    ids.length === 1 ? "this one" : "these"
  }: pool.stats() after the body shows ${active} out and ${leaked} detected as leaked.`;
}

/** LeakedLeaseError.leaks: exactly the body's kept connections, none of the caller's or an earlier request's. */
function judgeLeakList(
  where: string,
  leaks: LeakReport[],
  kept: Taken[],
  { held, earlier, inFlight }: Caller,
  deferred?: { conn: Taken; afterMs: number; readAfterMs: number },
) {
  const reported = new Set(leaks.map((leak) => leak.pid));
  const missing = kept.filter((conn) => !reported.has(conn.pid));
  const keptPids = new Set(kept.map((conn) => conn.pid));
  const extra = leaks.filter((leak) => !keptPids.has(leak.pid));
  const listed = shown(leaks.map((l) => ({ leaseId: l.leaseId, pid: l.pid })), 200);
  step.expect(
    leaks.length > 0,
    () =>
      `${where}: withLeaseGuard() threw LeakedLeaseError with an empty leaks list: it saw that connections were out ` +
      "(as pool.stats().active shows) but not which, and pool.reset() reclaims only connections marked leaked. " +
      `Make the pool detect the body's leaks, then report pool.leaks(): ${kept.map(named).join(", ")}.`,
  );
  step.expect(
    missing.length === 0,
    () =>
      `${where}: LeakedLeaseError.leaks should list every connection the body kept — ${
        kept.map(named).join(", ")
      } — but it misses ${missing.map(named).join(", ")} (it lists ${listed}).` +
      (deferred && missing.includes(deferred.conn) && deferred.readAfterMs >= deferred.afterMs
        ? ` Connection #${deferred.conn.id} was still out when the body settled; its owner gave it back from a timer ` +
          `${deferred.afterMs} ms later, and your guard last read pool.leaks() ${deferred.readAfterMs} ms after the ` +
          "body settled, by when it was back: the leak is what was out when the body settled. Read the leaks as " +
          "soon as the body's scope has ended, without waiting."
        : earlier.some((lease) => lease.state === "released")
        ? ` The body gave back connection #${
          earlier.find((lease) => lease.state === "released")!.id
        }, leaked by an earlier request, so the pool holds fewer old leaks than when the guard started: counting ` +
          "them and taking the rest skips the body's own. Note which leases were leaked before the body runs, and " +
          "compare lease ids, not counts."
        : leaks.length < kept.length && missing.some((conn) => !conn.nested)
        ? ` It lists ${leaks.length} of the ${kept.length} connections the body kept: a body can leave several out, ` +
          "and each one is a leak to report (and to reclaim), not only the first the guard finds."
        : missing.some((conn) => conn.nested)
        ? " A connection the body took inside its own pool.scope() was detected when that inner scope ended, before " +
          "your guard's check: it is the body's leak all the same (pool.leaks() names the innermost scope)."
        : ""),
  );
  const heldPids = new Set(held.map((conn) => conn.pid));
  const earlierPids = new Set(earlier.map((lease) => lease.pid));
  step.expect(
    extra.length === 0,
    () =>
      `${where}: LeakedLeaseError.leaks should list only the body's ${kept.length} kept connection(s); it also ` +
      `lists ${
        extra.map((leak) =>
          `#${leak.leaseId} (pid ${leak.pid}${
            heldPids.has(leak.pid)
              ? ", the caller's, taken before the guard started"
              : leak.pid === inFlight?.pid
              ? ", taken by another request running alongside the body, in its own async context"
              : earlierPids.has(leak.pid)
              ? ", leaked by an earlier request before the guard started"
              : ""
          })`
        ).join(", ")
      }. Only leaks the body itself left are the guard's business.`,
  );
}

/** The checkpoint's file: every connection its bodies take is taken on one of its lines. */
const CHECKPOINT_FILE = "checkpoint_test.ts:";

/** Each reported leak names the line of the test that took it, and the message says so. */
function judgeSites(where: string, error: LeakedLeaseError) {
  const prefix = where ? `${where}: ` : "";
  const elsewhere = error.leaks.find((leak) => !leak.site.includes(CHECKPOINT_FILE));
  step.expect(
    !elsewhere,
    () =>
      `${prefix}LeakedLeaseError names ${elsewhere!.site} as where connection #${elsewhere!.leaseId} was taken, but ` +
      `the test took it in ${CHECKPOINT_FILE.slice(0, -1)}: ${
        elsewhere!.site.includes("lease_guard.ts")
          ? "that line is your guard's own. A wrapper around pool.acquire() puts its own frame first in every " +
            "acquire stack, so the pool records the wrapper as the site; let the pool's scope find the leases, or " +
            "skip your wrapper's frames when you name the site."
          : "the site should point at the line to fix."
      }`,
  );
  const unnamed = error.leaks.find((leak) => !error.message.includes(leak.site));
  step.expect(
    !unnamed,
    () =>
      `${prefix}LeakedLeaseError's message should say where the connection was taken (${unnamed!.site}), so the ` +
      `failing test points at the line to fix; it says: ${error.message}`,
  );
}

/** After the report: the body's leaks closed, the caller's connections untouched, the pool whole again. */
async function judgeReclaimed(pool: TracedPool, where: string, kept: Taken[], caller: Caller) {
  const { held, earlier, inFlight } = caller;
  const earlierOut = earlier.filter((lease) => lease.state === "active").length;
  const inFlightOut = inFlight?.state === "active" ? 1 : 0;
  step.expect(
    !inFlight || inFlightOut === 1,
    () =>
      `${where}: the guard reclaimed or closed connection #${inFlight!.id}, which another request running alongside ` +
      `the body took in its own async context, not the body's (its state is "${inFlight!.state}"): only what the ` +
      "body itself took and kept is the guard's to report and reclaim. Recording every acquire() made while the " +
      "body runs catches other requests' connections too; the pool's scope counts only the body's.",
  );
  const stats = pool.stats();
  const stillOut = kept.filter((conn) => conn.lease ? conn.lease.state === "active" : false);
  step.expect(
    stillOut.length === 0 && stats.active === held.length + earlierOut + inFlightOut && stats.leaked === earlierOut,
    () =>
      `${where}: after reporting, the guard should reclaim the leaked connection(s) so the next test starts with a ` +
      `full pool (pool.reset() closes the connections marked leaked); pool.stats() is ${JSON.stringify(stats)}, ` +
      `with ${held.length} connection(s) the caller still holds${
        stillOut.length > 0 ? ` and ${stillOut.map(named).join(", ")} still out` : ""
      }.`,
  );
  const alive = await backendsGone(pool.name, kept.map((conn) => conn.pid));
  step.expect(
    alive.length === 0,
    () =>
      `${where}: the reclaimed connections' backends (pid ${listOf(alive)}) are still in pg_stat_activity: ` +
      "reclaim them with pool.reset(), which closes leaked connections.",
  );
  for (const conn of held) {
    const usable = conn.lease
      ? conn.lease.state === "active" && await conn.lease.query("SELECT 1 AS one").then(() => true, () => false)
      : !alive.includes(conn.pid) && (await backendsOf(pool.name)).some((b) => b.pid === conn.pid);
    step.expect(
      usable,
      () =>
        `${where}: the guard reclaimed or closed ${named(conn)}, which the caller took before the guard started ` +
        `and still holds${conn.lease ? ` (its state is "${conn.lease.state}")` : ""}: only the body's leaks are ` +
        "the guard's to reclaim.",
    );
  }
  // The next test: as many connections at once as the pool has left, in a clean body the guard must pass.
  const room = pool.max - held.length - earlierOut - inFlightOut;
  const next = await guarded(pool, async () => {
    const leases = await Promise.all(Array.from({ length: room }, () => pool.acquire()));
    for (const lease of leases) lease.release();
    return room;
  });
  step.expect(
    !next.threw && next.value === room,
    () =>
      `${where}: after the guard reported and reclaimed the leaks, the next test's clean body took ${room} ` +
      `connection(s) at once (all the pool has left besides the caller's) and withLeaseGuard() ${gave(next)}: ` +
      "the pool should be whole again.",
  );
}

/** A leaking scenario from the seed; `exhausting` keeps every connection the pool has left. */
function drawnLeak(
  n: number,
  of: number,
  exhausting: boolean,
  ends: LeakingBody["ends"],
  returnsEarlier = false,
  deferMs?: number,
): LeakingBody {
  const random = step.random(`leak scenario ${n} of ${of}`);
  const held = exhausting ? 1 : random.int(0, 1);
  const earlierLeaks = exhausting ? 0 : 1;
  // Every body takes two or three: the exhausting one keeps them all, so every run has a body that keeps several.
  // A body whose owner gives one kept connection back late keeps two of three: one nested, one released later.
  const defers = deferMs !== undefined && !exhausting && !returnsEarlier;
  const count = defers ? 3 : random.int(2, 3);
  // Not beside an earlier leak coming back: that scenario keeps the count of connections out unchanged.
  const inFlight = !exhausting && !returnsEarlier;
  const max = held + earlierLeaks + (inFlight ? 1 : 0) + count + (exhausting ? 0 : random.int(0, 1));
  const takes = Array.from({ length: count }, () => random.pick(["acquire()", "connect()"] as const));
  if (!takes.includes("acquire()")) takes[random.int(0, count - 1)] = "acquire()"; // one site to name, at least
  if (exhausting && !takes.includes("connect()") && count > 1) takes[takes.indexOf("acquire()")] = "connect()";
  // Giving back an earlier leak while keeping as many: the count of connections out does not change.
  const keptCount = returnsEarlier ? earlierLeaks : defers ? 2 : random.int(1, count - 1);
  const keptIndexes = exhausting ? takes.map((_, i) => i) : random.sample(keptCount, 0, count - 1);
  const kept = takes.map((_, i) => keptIndexes.includes(i));
  // One kept connection taken in the body's own pool.scope(); another released later by a timer.
  const nested = takes.map(() => false);
  const nestedAt = random.pick(keptIndexes);
  if (!exhausting || count > 1) nested[nestedAt] = true;
  if (defers) { for (const i of keptIndexes) if (i !== nestedAt) takes[i] = "acquire()"; }
  const others = keptIndexes.filter((i) => i !== nestedAt && takes[i] === "acquire()");
  const deferred = exhausting || others.length === 0 ? -1 : random.pick(others);
  const outerScope = exhausting ? true : random.next() < 0.5;
  const parts = [
    `a pool of ${max}`,
    `the body takes ${count} connection(s) and keeps ${keptIndexes.length}`,
    ...(exhausting ? ["every one the pool had left"] : []),
    ...(held > 0 ? [`the caller holds ${held} taken before the guard`] : []),
    ...(outerScope ? ["the guard runs inside the caller's pool.scope()"] : []),
    ...(inFlight ? ["another request takes a connection while the body runs"] : []),
    ...(deferred >= 0
      ? [`the owner of one kept connection gives it back ${deferMs ?? 30} ms after the body ends`]
      : []),
    ...(earlierLeaks > 0 ? ["an earlier request left a leak"] : []),
  ];
  return {
    name: `Scenario ${n} of ${of} (${parts.join(", ")}${
      returnsEarlier ? ", and the body gives that leaked connection back" : ""
    }${"throws" in ends ? `, and it throws ${ends.what}` : ""})`,
    max,
    held,
    outerScope,
    earlierLeaks,
    inFlight,
    takes,
    kept,
    nested,
    deferred,
    deferMs: deferMs ?? 30,
    returnsEarlier: earlierLeaks > 0 && returnsEarlier,
    ends,
  };
}

Deno.test(step.test("withLeaseGuard() fails a body that leaves a connection out, and reclaims it", async () => {
  const pool = guardPool("step05");
  try {
    let lease: Lease | undefined;
    const { value, error, ...timing } = await guarded(pool, async () => {
      lease = await pool.acquire(); // taken outside any pool.scope(), never returned
      return (await lease.query("SELECT 42 AS answer")).rows[0].answer;
    });
    step.expect(lease !== undefined, "checkpoint bug: the body did not run");
    step.expect(
      error !== undefined,
      () =>
        `withLeaseGuard() let a test body end with connection #${lease!.id} (backend pid ${lease!.pid}, acquired at ` +
        `${lease!.site}) still out, and returned ${JSON.stringify(value)}: it should have failed the test with ` +
        `LeakedLeaseError. ${missedWhy(pool, [lease!.id], timing)}`,
    );
    step.expect(
      error instanceof LeakedLeaseError && error.name === "LeakedLeaseError",
      () =>
        `withLeaseGuard() threw ${describeError(error)}: a body that leaves a connection out should fail with ` +
        "LeakedLeaseError.",
    );
    step.expect(
      error.leaks.length > 0,
      () =>
        `withLeaseGuard() threw LeakedLeaseError with an empty leaks list: it saw that a connection was out (as ` +
        `pool.stats().active shows) but not which one, and pool.reset() reclaims only connections marked leaked. ` +
        `Make the pool detect the body's leaks, then report pool.leaks(): connection #${lease!.id} (pid ` +
        `${lease!.pid}) acquired at ${lease!.site}.`,
    );
    step.expect(
      error.leaks.length === 1 && error.leaks[0].leaseId === lease.id && error.leaks[0].pid === lease.pid,
      () =>
        `LeakedLeaseError.leaks should list exactly connection #${lease!.id} (pid ${lease!.pid}); it lists ` +
        `${JSON.stringify(error.leaks.map((l) => ({ leaseId: l.leaseId, pid: l.pid })))}.`,
    );
    judgeSites("", error);
    step.expect(
      pool.stats().active === 0 && pool.stats().leaked === 0,
      () =>
        `After reporting, the guard should reclaim the leaked connection so the next test starts with a full pool ` +
        `(pool.reset() closes the connections marked leaked); pool.stats() is ${JSON.stringify(pool.stats())}` +
        (pool.stats().leaked === 0
          ? ": the connection is still out, and pool.reset() closes only what the pool has marked leaked, which " +
            "this one never was. Let the pool's scope mark it, then reset."
          : "."),
    );
    step.expect(
      (await backendsGone(pool.name, [lease.pid])).length === 0,
      () =>
        `The reclaimed connection's backend (pid ${lease!.pid}) is still in pg_stat_activity: reclaim it with ` +
        `pool.reset(), which closes leaked connections.`,
    );

    const nested = await guarded(pool, () =>
      pool.scope("inner_request", async () => {
        await pool.acquire();
      }));
    step.expect(
      nested.error instanceof LeakedLeaseError,
      () =>
        `A body that leaks inside its own pool.scope() should fail too; withLeaseGuard() gave ` +
        `${nested.error ? describeError(nested.error) : "no error"}.`,
    );
  } finally {
    await pool.end();
  }

  const values = step.random("leak values").shuffle(returnedValues());
  for (
    const [i, scenario] of [
      drawnLeak(2, 3, true, { returns: values[0] }),
      drawnLeak(3, 3, false, { returns: values[1] }, true),
    ]
      .entries()
  ) {
    const seeded = guardPool(`step05-${i + 2}`, scenario.max);
    try {
      await judgeLeakingBody(seeded, scenario);
    } finally {
      await seeded.end();
    }
  }
}));

Deno.test(step.test("withLeaseGuard() reports the leak even when the body throws", async () => {
  const pool = guardPool("step05");
  try {
    const { error } = await guarded(pool, async () => {
      const conn = await pool.acquire();
      await conn.query("SELECT 1 / 0"); // division_by_zero, SQLSTATE 22012: release() below is never reached
      conn.release();
    });
    step.expect(
      error instanceof LeakedLeaseError,
      () =>
        `The body failed with a query error and left its connection out; withLeaseGuard() gave ` +
        `${describeError(error)}${
          sqlstate(error) === "22012" ? ", the body's own error, and the leak went unreported" : ""
        }. The leak is the bug to report (the error path is where leaks hide): throw LeakedLeaseError with the ` +
        `body's error as its cause. ${pool.stats().active} connection(s) are out.`,
    );
    step.expect(
      sqlstate(error.cause) === "22012",
      () =>
        `LeakedLeaseError's cause should be the body's own error (SQLSTATE 22012, division by zero); it is ` +
        `${error.cause === undefined ? "not set" : describeError(error.cause)}.`,
    );
    step.expect(pool.stats().active === 0, () => `After reporting, ${pool.stats().active} connection(s) are out.`);
  } finally {
    await pool.end();
  }

  // Another query error, and something that is not one; each time the body also keeps connections.
  const random = step.random("throwing bodies");
  // The last throws a falsy value ("" or 0); the two not exhausting the pool each have a kept connection its owner
  // gives back late: a moment after the body, and long after it (but well before the guard's bound).
  const kinds = [
    random.pick(["badInteger", "noColumn"]),
    random.pick(["typeError", "assertion", "string"]),
    random.pick(["emptyString", "zero"]),
  ];
  const delays = [undefined, random.int(20, 60), random.int(150, 400)];
  for (const [i, kind] of kinds.entries()) {
    const scenario = drawnLeak(i + 2, 4, i === 0, THROWS[kind], false, delays[i]);
    const seeded = guardPool(`step05-${i + 2}`, scenario.max);
    try {
      await judgeLeakingBody(seeded, scenario);
    } finally {
      await seeded.end();
    }
  }
}));

/** A clean body: it gives back everything it takes, in one style or another, and returns `value`. */
interface CleanBody {
  /** How it gives its connections back, for messages. */
  style: string;
  run: (pool: TracedPool, value: unknown) => Promise<unknown>;
}

const CLEAN_BODIES: CleanBody[] = [
  {
    style: "`await using`",
    run: async (pool, value) => {
      await using conn = await pool.acquire();
      await conn.query("SELECT 1 AS one");
      return value;
    },
  },
  {
    style: "try/finally",
    run: async (pool, value) => {
      const conn = await pool.acquire();
      try {
        await conn.query("SELECT 1 AS one");
        return value;
      } finally {
        conn.release();
      }
    },
  },
  {
    style: "pool.query(), which returns its own connection",
    run: async (pool, value) => {
      await pool.query("SELECT 1 AS one");
      return value;
    },
  },
  {
    style: "pool.connect() and client.release()",
    run: async (pool, value) => {
      const client = await pool.connect();
      try {
        await client.query("SELECT 1 AS one");
        return value;
      } finally {
        client.release();
      }
    },
  },
  {
    style: "its own pool.scope() around an `await using`",
    run: (pool, value) =>
      pool.scope("inner_request", async () => {
        await using conn = await pool.acquire();
        await conn.query("SELECT 1 AS one");
        return value;
      }),
  },
  {
    style: "two connections at once, each given back",
    run: async (pool, value) => {
      const [a, b] = await Promise.all([pool.acquire(), pool.acquire()]);
      try {
        await Promise.all([a.query("SELECT 1 AS one"), b.query("SELECT 2 AS two")]);
        return value;
      } finally {
        a.release();
        b.release();
      }
    },
  },
  {
    style: "a release from a timer the body awaits",
    run: async (pool, value) => {
      const conn = await pool.acquire();
      await new Promise<void>((resolve) =>
        setTimeout(() => {
          conn.release();
          resolve();
        }, 10)
      );
      return value;
    },
  },
];

Deno.test(
  step.test("withLeaseGuard() passes clean bodies through and leaves the caller's connections alone", async () => {
    const pool = guardPool("step05");
    try {
      const [{ total }] = await adminQuery<{ total: number }>("SELECT count(*)::int AS total FROM sensors");
      const clean = await guarded(pool, async () => {
        await using conn = await pool.acquire();
        return (await conn.query<{ total: number }>("SELECT count(*)::int AS total FROM sensors")).rows[0].total;
      });
      step.expect(
        clean.error === undefined && clean.value === total,
        () =>
          `A body that returns its connection should pass through with its value (${total}); withLeaseGuard() gave ` +
          `${clean.error ? describeError(clean.error) : JSON.stringify(clean.value)}.`,
      );

      let thrown: unknown;
      const failing = await guarded(pool, async () => {
        await using conn = await pool.acquire();
        try {
          await conn.query("SELECT 1 / 0");
        } catch (error) {
          thrown = error;
          throw error;
        }
      });
      step.expect(
        failing.error === thrown && thrown !== undefined,
        () =>
          `A body that returns its connection and throws should fail with its own error, unchanged ` +
          `(${describeError(thrown)}); withLeaseGuard() gave ${describeError(failing.error)}.`,
      );

      const held = await pool.acquire(); // the caller's, taken before the guard
      try {
        const alongside = await guarded(pool, async () => {
          await using conn = await pool.acquire();
          return (await conn.query("SELECT 1 AS one")).rows.length;
        });
        step.expect(
          alongside.error === undefined,
          () =>
            `A connection the caller took before the guard started is not the body's leak; withLeaseGuard() gave ` +
            `${describeError(alongside.error)}.`,
        );
        const stillUsable = await held.query("SELECT 1 AS one").then(() => true, () => false);
        step.expect(
          held.state === "active" && stillUsable,
          () =>
            `The guard reclaimed or closed connection #${held.id}, which the caller took before the guard started ` +
            `(its state is "${held.state}").`,
        );
      } finally {
        held.release();
      }

      // A leak an earlier request left (detected when its scope ended) is not this body's.
      let earlier: Lease | undefined;
      await pool.scope("earlier_request", async () => {
        earlier = await pool.acquire();
      });
      const later = await guarded(pool, async () => {
        await using conn = await pool.acquire();
        return (await conn.query("SELECT 1 AS one")).rows.length;
      });
      step.expect(
        later.error === undefined,
        () =>
          `A clean body should pass even when the pool already holds a leak from before the guard started ` +
          `(connection #${earlier!.id}, leaked by an earlier request's scope); withLeaseGuard() gave ` +
          `${describeError(later.error)}. Only leaks the body itself left are the guard's business.`,
      );
      pool.reset(); // the checkpoint cleans up the leak it made
      step.expect(
        pool.stats().active === 0 && pool.stats().leaked === 0,
        () => `At the end pool.stats() should show nothing out; it is ${JSON.stringify(pool.stats())}.`,
      );
    } finally {
      await pool.end();
    }

    await judgeCleanBodies(step.random("clean bodies"));
  }),
);

/**
 * Every clean body style, each returning a value drawn from falsy ones, objects and arrays, then clean bodies
 * that throw (a query error, an Error, a string, "" and 0), with the caller holding connections, an outer scope, and
 * earlier leaks in the pool — some of which a body gives back.
 */
async function judgeCleanBodies(random: SeededRandom): Promise<void> {
  const held = random.int(1, 2);
  // Room for the two connections the widest clean body takes at once, and sometimes one more.
  const facts: Around = {
    name: "",
    max: held + 2 + 1 + 2 + random.int(0, 1),
    held,
    outerScope: random.next() < 0.5,
    earlierLeaks: 2,
    inFlight: true,
  };
  facts.name = `Scenario 2 of 2 (a pool of ${facts.max}, the caller holds ${facts.held} connection(s) taken before ` +
    `the guard${facts.outerScope ? ", the guard runs inside the caller's pool.scope()" : ""}, another request ` +
    `takes a connection while a body runs, and an earlier request left ${facts.earlierLeaks} leaks)`;
  const where = facts.name;
  const pool = guardPool("step05-clean", facts.max);
  try {
    await around(pool, facts, async (caller) => {
      const { held, earlier } = caller;
      // A clean body while another request, in its own async context, takes a connection and holds it past the guard.
      const alongside = await guarded(pool, async () => {
        await caller.during();
        await using conn = await pool.acquire();
        await conn.query("SELECT 1 AS one");
        return "alongside";
      });
      const other = caller.inFlight;
      step.expect(
        !alongside.threw && alongside.value === "alongside" && other?.state === "active",
        () =>
          `${where}: a clean body ran while another request, in its own async context, took connection ` +
          `#${other?.id ?? 0} and held it past the body's end; withLeaseGuard() ${gave(alongside)}${
            other?.state === "active" ? "" : ` and that connection is now "${other?.state}"`
          }. That connection is not the body's: recording every acquire() made while the body runs catches other ` +
          "requests' connections too; the pool's scope counts only the body's.",
      );
      const values = random.shuffle(returnedValues());
      const bodies = random.shuffle(CLEAN_BODIES);
      for (const [i, body] of bodies.entries()) {
        const value = values[i % values.length];
        const result = await guarded(pool, () => body.run(pool, value));
        step.expect(
          !result.threw && Object.is(result.value, value),
          () =>
            `${where}: a clean body (it gives its connections back with ${body.style}) returned ${shown(value)}; ` +
            `withLeaseGuard() ${gave(result)}. A body that leaves nothing out passes through with exactly what it ` +
            "returned" + (result.threw ? "." : ", the very value (not a copy, not a default for a falsy one)."),
        );
      }
      // A clean body that gives back an earlier request's leaked connection: fewer leaks than before, none its own.
      const returning = await guarded(pool, async () => {
        earlier[0].release();
        await using conn = await pool.acquire();
        await conn.query("SELECT 1 AS one");
        return "done";
      });
      step.expect(
        !returning.threw && returning.value === "done",
        () =>
          `${where}: a clean body gave back connection #${earlier[0].id}, which an earlier request had leaked, and ` +
          `returned "done"; withLeaseGuard() ${gave(returning)}. The pool now holds fewer leaks than when the guard ` +
          "started, and none of them is the body's: compare which leases are leaked, not how many.",
      );
      for (const kind of random.shuffle(["division", "assertion", "string", "emptyString", "zero"])) {
        lastThrown = undefined;
        const thrown = THROWS[kind];
        const result = await guarded(pool, async () => {
          await using conn = await pool.acquire();
          await thrown.throws((text) => conn.query(text));
        });
        step.expect(
          result.threw && result.error === lastThrown,
          () =>
            `${where}: a clean body threw ${thrown.what} after giving its connection back; withLeaseGuard() ` +
            `${gave(result)}. A body that leaves nothing out fails with its own error, unchanged: the same value, ` +
            "whatever it is.",
        );
      }
      const stats = pool.stats();
      const earlierOut = earlier.filter((lease) => lease.state === "active");
      step.expect(
        earlierOut.length === facts.earlierLeaks - 1 && stats.leaked === earlierOut.length &&
          stats.active === held.length + earlierOut.length + (caller.inFlight?.state === "active" ? 1 : 0),
        () =>
          `${where}: after clean bodies only, the earlier request's ${earlierOut.length === 0 ? "" : "remaining "}` +
          `leak and the caller's ${held.length} connection(s) should be as they were; pool.stats() is ` +
          `${JSON.stringify(stats)}: the guard reclaimed what was not the body's (pool.reset() with nothing of the ` +
          "body's to reclaim).",
      );
      for (const conn of held) {
        const usable = !conn.lease || await conn.lease.query("SELECT 1 AS one").then(() => true, () => false);
        step.expect(
          usable,
          () => `${where}: ${named(conn)}, the caller's since before the guard, no longer works after clean bodies.`,
        );
      }
    });
    pool.reset(); // the checkpoint cleans up the leaks it made
  } finally {
    await pool.end();
  }
}

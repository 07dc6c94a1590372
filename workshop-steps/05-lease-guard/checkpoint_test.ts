/**
 * Checkpoint of step 5: `withLeaseGuard()` fails a test body that leaves a
 * connection out, names where it was taken, and reclaims it — and stays out of
 * the way of clean bodies.
 */
import { sqlstate } from "leak-lab/database.ts";
import type { Lease, TracedPool } from "leak-lab/pool.ts";
import { type Checkpoint, checkpoint } from "leak-lab/workshop/checkpoint.ts";
import { describeError } from "leak-lab/workshop/checkpoint_checks.ts";
import { eventually } from "leak-lab/util/eventually.ts";
import { adminQuery, backendsOf, checkpointPool } from "leak-lab/workshop/checkpoint_database.ts";
import { LeakedLeaseError, withLeaseGuard } from "./lease_guard.ts";

const step: Checkpoint = checkpoint({ edit: "lease_guard.ts" });

/** What the guard did with a body: its value, or what it threw. */
async function guarded<T>(pool: TracedPool, body: () => Promise<T>): Promise<{ value?: T; error?: unknown }> {
  try {
    return { value: await withLeaseGuard(pool, body) };
  } catch (error) {
    return { error };
  }
}

/** Postgres closes a reclaimed backend a moment after the socket goes: wait for it, briefly. */
async function backendGone(poolName: string, pid: number): Promise<boolean> {
  const backends = await eventually(() => backendsOf(poolName), (now) => !now.some((b) => b.pid === pid));
  return !backends.some((b) => b.pid === pid);
}

Deno.test(step.test("withLeaseGuard() fails a body that leaves a connection out, and reclaims it", async () => {
  const pool = checkpointPool("step05");
  try {
    let lease: Lease | undefined;
    const { value, error } = await guarded(pool, async () => {
      lease = await pool.acquire(); // taken outside any pool.scope(), never returned
      return (await lease.query("SELECT 42 AS answer")).rows[0].answer;
    });
    step.expect(lease !== undefined, "checkpoint bug: the body did not run");
    const leakedLate = pool.leaks().some((leak) => leak.leaseId === lease!.id);
    step.expect(
      error !== undefined,
      () =>
        `withLeaseGuard() let a test body end with connection #${lease!.id} (backend pid ${lease!.pid}, acquired at ` +
        `${lease!.site}) still out, and returned ${JSON.stringify(value)}: it should have failed the test with ` +
        "LeakedLeaseError. " +
        (leakedLate
          ? "The pool did mark the connection as leaked, but only when the scope ended, after your guard had " +
            "already read pool.leaks(): with the whole guard inside pool.scope(), the check runs before the scope " +
            "ends. Run only the body in the scope, and read the leaks once the scope has ended."
          : `pool.leaks() lists only what the pool has detected as leaked, and nothing had detected this one: ` +
            `pool.stats() after the body shows ${pool.stats().active} out and ${pool.stats().leaked} detected as ` +
            "leaked."),
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
    step.expect(
      error.message.includes(lease.site),
      () =>
        `LeakedLeaseError's message should say where the connection was taken (${lease!.site}), so the failing ` +
        `test points at the line to fix; it says: ${error.message}`,
    );
    step.expect(
      pool.stats().active === 0 && pool.stats().leaked === 0,
      () =>
        `After reporting, the guard should reclaim the leaked connection so the next test starts with a full pool ` +
        `(pool.reset() closes the connections marked leaked); pool.stats() is ${JSON.stringify(pool.stats())}.`,
    );
    step.expect(
      await backendGone(pool.name, lease.pid),
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
}));

Deno.test(step.test("withLeaseGuard() reports the leak even when the body throws", async () => {
  const pool = checkpointPool("step05");
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
        `${describeError(error.cause)}.`,
    );
    step.expect(pool.stats().active === 0, () => `After reporting, ${pool.stats().active} connection(s) are out.`);
  } finally {
    await pool.end();
  }
}));

Deno.test(
  step.test("withLeaseGuard() passes clean bodies through and leaves the caller's connections alone", async () => {
    const pool = checkpointPool("step05");
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
  }),
);

// Mistake: Tracks the body's connections by wrapping pool.acquire() for the body's duration (and closes them with release(true)), so a connection another request takes meanwhile (in its own async context) is blamed on the body, and every lease's acquire site is captured inside the wrapper, naming a line of the guard instead of the test's.
// Expect: "puts its own frame first in every acquire stack"
/**
 * Step 5: a test helper that fails a test when a connection outlives it, as
 * Deno's resource sanitizer fails a test that leaves a file or socket open.
 *
 * @module
 */
import type { LeakReport, TracedPool } from "leak-lab/pool.ts";

/** A test body left connections out of the pool. */
export class LeakedLeaseError extends Error {
  /** One report per connection left out: lease id, backend pid, acquire site and stack. */
  readonly leaks: LeakReport[];

  constructor(leaks: LeakReport[], options?: ErrorOptions) {
    super(
      `${leaks.length} connection(s) taken during this test were never returned to the pool: ${
        leaks.map((leak) => `#${leak.leaseId} (backend pid ${leak.pid}) acquired at ${leak.site}`).join("; ")
      }. Return each one on every path, with \`await using\` or \`finally\`.`,
      options,
    );
    this.name = "LeakedLeaseError";
    this.leaks = leaks;
  }
}

/**
 * Runs `body` and fails when a connection it took from `pool` is still out at
 * its end. Those connections are reclaimed, so the next test starts with a
 * full pool. Connections taken before the guard started are not its business.
 */
export async function withLeaseGuard<T>(pool: TracedPool, body: () => Promise<T>): Promise<T> {
  type Lease = Awaited<ReturnType<TracedPool["acquire"]>>;
  const taken: Lease[] = [];
  const original = pool.acquire;
  pool.acquire = async function (this: TracedPool) {
    const lease = await original.call(this);
    taken.push(lease);
    return lease;
  };
  let outcome: { value: T } | { error: unknown };
  try {
    outcome = { value: await body() };
  } catch (error) {
    outcome = { error };
  } finally {
    pool.acquire = original;
  }
  const kept = taken.filter((lease) => lease.state === "active");
  if (kept.length > 0) {
    const leaks = kept.map((lease) => lease.report());
    for (const lease of kept) lease.release(true); // close it: pg opens a fresh one for the next test
    throw new LeakedLeaseError(leaks, "error" in outcome ? { cause: outcome.error } : undefined);
  }
  if ("error" in outcome) throw outcome.error;
  return outcome.value;
}

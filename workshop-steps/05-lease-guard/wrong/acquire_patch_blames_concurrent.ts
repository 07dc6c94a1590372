// Mistake: it swaps pool.acquire for a recorder during the body, so every lease anyone takes meanwhile counts as the body's (a concurrent request still holding its connection fails the test and has it destroyed under it), and the recorder's frame becomes the reported acquire site.
// Expect: "that line is your guard's own"
/**
 * Step 5: a test helper that fails a test when a connection outlives it, as
 * Deno's resource sanitizer fails a test that leaves a file or socket open.
 *
 * @module
 */
import { type LeakReport, type Lease, TracedPool } from "leak-lab/pool.ts";

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
  const taken: Lease[] = [];
  const acquire = TracedPool.prototype.acquire;
  pool.acquire = async function (this: TracedPool) {
    const lease = await acquire.call(this);
    taken.push(lease);
    return lease;
  };
  let outcome: { value: T } | { error: unknown };
  try {
    outcome = { value: await body() };
  } catch (error) {
    outcome = { error };
  } finally {
    delete (pool as { acquire?: unknown }).acquire;
  }
  const left = taken.filter((lease) => lease.state === "active");
  if (left.length > 0) {
    const leaks = left.map((lease) => lease.report());
    for (const lease of left) lease.release(true); // close it: the test may have left it in any state
    throw new LeakedLeaseError(leaks, "error" in outcome ? { cause: outcome.error } : undefined);
  }
  if ("error" in outcome) throw outcome.error;
  return outcome.value;
}

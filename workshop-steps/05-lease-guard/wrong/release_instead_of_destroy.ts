// Mistake: it "reclaims" the body's leases with lease.release(), putting a connection the test abandoned (possibly mid-transaction) back into the pool so its backend stays in pg_stat_activity instead of being closed (and its acquire() wrapper also becomes the reported acquire site).
// Expect: "that line is your guard's own"
/**
 * Step 5: a test helper that fails a test when a connection outlives it, as
 * Deno's resource sanitizer fails a test that leaves a file or socket open.
 *
 * @module
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { LeakReport, Lease, TracedPool } from "leak-lab/pool.ts";

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
const tracking = new AsyncLocalStorage<Set<Lease>>();
const patched = new WeakSet<TracedPool>();

function track(pool: TracedPool): void {
  if (patched.has(pool)) return;
  patched.add(pool);
  const acquire = pool.acquire.bind(pool);
  pool.acquire = async () => {
    const mine = tracking.getStore();
    const lease = await acquire();
    mine?.add(lease);
    return lease;
  };
}

export async function withLeaseGuard<T>(pool: TracedPool, body: () => Promise<T>): Promise<T> {
  track(pool);
  const mine = new Set<Lease>();
  let outcome: { value: T } | { error: unknown };
  try {
    outcome = { value: await tracking.run(mine, body) };
  } catch (error) {
    outcome = { error };
  }
  const left = [...mine].filter((lease) => lease.state === "active");
  if (left.length > 0) {
    const leaks = left.map((lease) => lease.report());
    for (const lease of left) lease.release();
    throw new LeakedLeaseError(leaks, "error" in outcome ? { cause: outcome.error } : undefined);
  }
  if ("error" in outcome) throw outcome.error;
  return outcome.value;
}

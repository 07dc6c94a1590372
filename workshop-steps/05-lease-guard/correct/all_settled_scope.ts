// Correct: Promise.allSettled() turns the scoped body's outcome into data, the pool's scope check marks whatever the body (or a scope of its own) left out, new leaks are told from earlier ones by lease id, and reset() reclaims them before LeakedLeaseError carries the body's error as cause.
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
  const known = new Set<number>();
  for (const { leaseId } of pool.leaks()) known.add(leaseId);
  const [settled] = await Promise.allSettled([pool.scope("lease_guard", () => body())]);
  const fresh = pool.leaks().filter(({ leaseId }) => !known.has(leaseId));
  if (fresh.length) {
    pool.reset();
    throw new LeakedLeaseError(fresh, settled.status === "rejected" ? { cause: settled.reason } : undefined);
  }
  if (settled.status === "rejected") throw settled.reason;
  return settled.value;
}

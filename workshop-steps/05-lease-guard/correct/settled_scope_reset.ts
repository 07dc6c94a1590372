// Correct: the minimal fix in another style: the body runs in pool.scope(), so anything it left out is detected the moment it ends; its outcome is captured with .then(ok, fail), new leaks are told apart from earlier ones by id, and pool.reset() reclaims (cancel, then close) only when the body leaked.
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
export function withLeaseGuard<T>(pool: TracedPool, body: () => Promise<T>): Promise<T> {
  const earlier = new Set(pool.leaks().map(({ leaseId }) => leaseId));
  const judge = (failed: boolean, outcome: unknown): T => {
    const leaks = pool.leaks().filter(({ leaseId }) => !earlier.has(leaseId));
    if (leaks.length > 0) {
      pool.reset();
      throw new LeakedLeaseError(leaks, failed ? { cause: outcome } : undefined);
    }
    if (failed) throw outcome;
    return outcome as T;
  };
  return pool.scope("with_lease_guard", body).then(
    (value) => judge(false, value),
    (error: unknown) => judge(true, error),
  );
}

// Mistake: When the body throws it rethrows that error straight away and skips the leak check, so a body that leaks and also throws is reported as its own error, not as the LeakedLeaseError the README says must win (and its leak is not reclaimed).
// Expect: "the body's own error, and the leak went unreported"
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
  const before = new Set(pool.leaks().map((leak) => leak.leaseId));
  // A failing body already fails the test: its own error is the more useful one.
  const value = await pool.scope("lease-guard", () => body());
  const leaks = pool.leaks().filter((leak) => !before.has(leak.leaseId));
  if (leaks.length > 0) {
    pool.reset();
    throw new LeakedLeaseError(leaks);
  }
  return value;
}

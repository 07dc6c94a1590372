// Mistake: starts the scope, reads pool.leaks() and only then awaits the scope: the leaks are read while the body still runs, before the scope has marked anything.
// Expect: "never read pool.leaks() after the body had ended"
/**
 * Step 5: a test helper that fails a test when a connection outlives it — a known-wrong attempt, kept so CI proves
 * the checkpoint rejects it.
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

/** Runs `body` and fails when a connection it took from `pool` is still out at its end. */
export async function withLeaseGuard<T>(pool: TracedPool, body: () => Promise<T>): Promise<T> {
  const before = new Set(pool.leaks().map((leak) => leak.leaseId));
  const running = pool.scope("lease_guard", body);
  const leaks = pool.leaks().filter((leak) => !before.has(leak.leaseId));
  if (leaks.length > 0) {
    pool.reset();
    throw new LeakedLeaseError(leaks);
  }
  return await running;
}

// Correct: Promise.allSettled() around the scope, then one macrotask before reading the leaks (harmless: the scope marked them when it ended); leaks from before are told apart by lease id and pid.
/**
 * Step 5: a test helper that fails a test when a connection outlives it — a correct attempt in another style than the
 * solution's, kept so CI proves the checkpoint accepts it.
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
  const key = (leak: LeakReport) => `${leak.leaseId}/${leak.pid}`;
  const before = new Set(pool.leaks().map(key));
  const [outcome] = await Promise.allSettled([pool.scope("lease_guard", body)]);
  await new Promise((resolve) => setTimeout(resolve, 0));
  const leaks = pool.leaks().filter((leak) => !before.has(key(leak)));
  if (leaks.length > 0) {
    pool.reset();
    throw new LeakedLeaseError(leaks, outcome.status === "rejected" ? { cause: outcome.reason } : undefined);
  }
  if (outcome.status === "rejected") throw outcome.reason;
  return outcome.value;
}

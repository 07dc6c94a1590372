// Correct: settles the scope with `.then(onValue, onError)` into a small tagged result, then reports, reclaims and rethrows from it.
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
  const earlier = new Set(pool.leaks().map((leak) => leak.leaseId));
  const settled = await pool.scope("lease_guard", body).then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  const leaks = pool.leaks().filter((leak) => !earlier.has(leak.leaseId));
  if (leaks.length > 0) {
    pool.reset();
    throw new LeakedLeaseError(leaks, settled.ok ? undefined : { cause: settled.error });
  }
  if (!settled.ok) throw settled.error;
  return settled.value;
}

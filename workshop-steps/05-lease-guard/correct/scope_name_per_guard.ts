// Correct: a scope named after each guard run, the earlier leaks kept in a Map by lease id, and the reclaim counted and checked.
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

/** How many guards have run: each scope gets its own name. */
let runs = 0;

/** Runs `body` and fails when a connection it took from `pool` is still out at its end. */
export async function withLeaseGuard<T>(pool: TracedPool, body: () => Promise<T>): Promise<T> {
  const earlier = new Map(pool.leaks().map((leak) => [leak.leaseId, leak]));
  let result: { value: T } | undefined;
  let failure: { error: unknown } | undefined;
  try {
    result = { value: await pool.scope(`lease_guard#${++runs}`, () => body()) };
  } catch (error) {
    failure = { error };
  }
  const leaks = pool.leaks().filter((leak) => earlier.get(leak.leaseId)?.pid !== leak.pid);
  if (leaks.length > 0) {
    const reclaimed = pool.reset();
    if (reclaimed < leaks.length) throw new Error(`reclaimed ${reclaimed} of ${leaks.length} leaked connections`);
    throw new LeakedLeaseError(leaks, failure ? { cause: failure.error } : undefined);
  }
  if (failure) throw failure.error;
  return result!.value;
}

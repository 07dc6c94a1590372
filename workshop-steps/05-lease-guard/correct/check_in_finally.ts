// Correct: `return await` inside `try` and the leak check in `finally`, which throws LeakedLeaseError over the body's own error (kept as its cause); a flag tells a thrown `undefined` apart.
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
  const before = pool.leaks().map((leak) => leak.leaseId);
  let threw = false;
  let thrown: unknown;
  try {
    return await pool.scope("lease_guard", body);
  } catch (error) {
    threw = true;
    thrown = error;
    throw error;
  } finally {
    const leaks = pool.leaks().filter((leak) => !before.includes(leak.leaseId));
    if (leaks.length > 0) {
      pool.reset();
      // deno-lint-ignore no-unsafe-finally -- the leak is the failure to report, over the body's own error
      throw new LeakedLeaseError(leaks, threw ? { cause: thrown } : undefined);
    }
  }
}

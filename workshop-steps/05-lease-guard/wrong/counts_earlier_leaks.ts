// Mistake: remembers how many leaks there were before and reports the ones after that many: when an earlier leak comes back during the body, the count shifts and the body's own leak is skipped.
// Expect: "which leases were leaked before the body runs"
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
  const before = pool.leaks().length;
  let outcome: { value: T } | { error: unknown };
  try {
    outcome = { value: await pool.scope("lease_guard", body) };
  } catch (error) {
    outcome = { error };
  }
  const leaks = pool.leaks().slice(before); // oldest first: the new ones come last
  if (leaks.length > 0) {
    pool.reset();
    throw new LeakedLeaseError(leaks, "error" in outcome ? { cause: outcome.error } : undefined);
  }
  if ("error" in outcome) throw outcome.error;
  return outcome.value;
}

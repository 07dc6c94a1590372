// Mistake: keeps only the leaks whose scope is the guard's own ("lease_guard"): a leak the body made inside a pool.scope() of its own carries that inner scope's name and slips through.
// Expect: "A body that leaks inside its own pool.scope() should fail too"
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
  let outcome: { value: T } | { error: unknown };
  try {
    outcome = { value: await pool.scope("lease_guard", body) };
  } catch (error) {
    outcome = { error };
  }
  const leaks = pool.leaks().filter((leak) => leak.scope === "lease_guard");
  if (leaks.length > 0) {
    pool.reset();
    throw new LeakedLeaseError(leaks, "error" in outcome ? { cause: outcome.error } : undefined);
  }
  if ("error" in outcome) throw outcome.error;
  return outcome.value;
}

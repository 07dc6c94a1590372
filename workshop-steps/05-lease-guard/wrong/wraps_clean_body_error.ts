// Mistake: leak detection is right, but a clean body's own error is rethrown wrapped in a new Error ("test body failed"), so the caller no longer gets the body's error unchanged (its class, code and identity are lost).
// Expect: "should fail with its own error, unchanged"
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
  let outcome: { value: T } | { error: unknown };
  try {
    outcome = { value: await pool.scope("lease_guard", body) };
  } catch (error) {
    outcome = { error };
  }
  const leaks = pool.leaks().filter((leak) => !before.has(leak.leaseId));
  if (leaks.length > 0) {
    pool.reset();
    throw new LeakedLeaseError(leaks, "error" in outcome ? { cause: outcome.error } : undefined);
  }
  if ("error" in outcome) {
    const message = outcome.error instanceof Error ? outcome.error.message : String(outcome.error);
    throw new Error(`test body failed (no connection leaked): ${message}`, { cause: outcome.error });
  }
  return outcome.value;
}

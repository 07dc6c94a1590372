// Mistake: Decides whether the body leaked by comparing how many leaks pool.leaks() lists before and after, so a body that gives an earlier request's leak back and keeps one of its own (the count unchanged) passes.
// Expect: "it should have failed the test with LeakedLeaseError"
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
  const before = pool.leaks();
  let outcome: { value: T } | { error: unknown };
  try {
    outcome = { value: await pool.scope("lease-guard", () => body()) };
  } catch (error) {
    outcome = { error };
  }
  const after = pool.leaks();
  const added = after.length - before.length;
  if (added > 0) {
    const known = new Set(before.map((leak) => leak.leaseId));
    pool.reset();
    throw new LeakedLeaseError(
      after.filter((leak) => !known.has(leak.leaseId)),
      "error" in outcome ? { cause: outcome.error } : undefined,
    );
  }
  if ("error" in outcome) throw outcome.error;
  return outcome.value;
}

// Correct: Keys earlier leaks by lease id and pid together, runs the body in its own pool.scope() (nested fine under an outer scope), and reports the body's kept connections sorted by lease id, reclaiming only when there are any; the body's thrown value is passed as `cause` unchanged, even when it is a string.
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
  const key = (leak: LeakReport) => `${leak.leaseId}/${leak.pid}`;
  const earlier = new Set(pool.leaks().map(key));
  const result = await pool.scope("withLeaseGuard", body).then(
    (value) => ({ threw: false as const, value }),
    (error: unknown) => ({ threw: true as const, error }),
  );
  const kept = pool.leaks().filter((leak) => !earlier.has(key(leak))).sort((a, b) => a.leaseId - b.leaseId);
  if (kept.length === 0) {
    if (result.threw) throw result.error;
    return result.value;
  }
  pool.reset();
  throw result.threw ? new LeakedLeaseError(kept, { cause: result.error }) : new LeakedLeaseError(kept);
}

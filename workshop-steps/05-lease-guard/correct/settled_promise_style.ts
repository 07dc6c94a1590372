// Correct: Runs the body in a pool.scope() of its own so the pool marks every connection the body kept (in nested scopes too) leaked the moment it ends, tells them from earlier leaks by lease id, and handles outcomes with `.then(onValue, onError)` rather than try/catch, keeping the very value or thrown value.
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
export function withLeaseGuard<T>(pool: TracedPool, body: () => Promise<T>): Promise<T> {
  const earlier = new Set(pool.leaks().map((leak) => leak.leaseId));
  const finish = (settled: { ok: true; value: T } | { ok: false; error: unknown }): T => {
    const mine = pool.leaks().filter((leak) => !earlier.has(leak.leaseId));
    if (mine.length > 0) {
      pool.reset();
      throw new LeakedLeaseError(mine, settled.ok ? undefined : { cause: settled.error });
    }
    if (!settled.ok) throw settled.error;
    return settled.value;
  };
  return pool.scope("lease-guard", () => body()).then(
    (value) => finish({ ok: true, value }),
    (error) => finish({ ok: false, error }),
  );
}

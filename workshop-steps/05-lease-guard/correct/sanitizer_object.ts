// Correct: a small sanitizer object, started before and finished after the body, snapshots the already-detected leak ids, runs the body in a uniquely named pool.scope() so its left-over leases are detected with their pid and site, and on new leaks reclaims and throws with the body's error (if any) as cause; a clean body's value or error passes through untouched.
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
let runs = 0;

class LeaseSanitizer {
  readonly #pool: TracedPool;
  readonly #earlier: ReadonlySet<number>;

  constructor(pool: TracedPool) {
    this.#pool = pool;
    this.#earlier = new Set(pool.leaks().map((leak) => leak.leaseId));
  }

  /** The leases detected as leaked since this sanitizer started. */
  leftOut(): LeakReport[] {
    return this.#pool.leaks().filter((leak) => !this.#earlier.has(leak.leaseId));
  }

  /** Throws when the body left connections out, after taking them back. */
  assertClean(failure?: { error: unknown }): void {
    const leaks = this.leftOut();
    if (leaks.length === 0) return;
    this.#pool.reset();
    throw new LeakedLeaseError(leaks, failure && { cause: failure.error });
  }
}

export async function withLeaseGuard<T>(pool: TracedPool, body: () => Promise<T>): Promise<T> {
  const sanitizer = new LeaseSanitizer(pool);
  let value: T;
  try {
    value = await pool.scope(`lease_guard_${++runs}`, body);
  } catch (error) {
    sanitizer.assertClean({ error });
    throw error;
  }
  sanitizer.assertClean();
  return value;
}

// Mistake: it detects leaks with a pool.scope() and reclaims only the body's own leases via an acquire() recorder, but that recorder sits on every acquire's stack, so the reported acquire site is the guard's wrapper line, not the test line that took the connection.
// Expect: "that line is your guard's own"
/**
 * Step 5: a test helper that fails a test when a connection outlives it, as
 * Deno's resource sanitizer fails a test that leaves a file or socket open.
 *
 * @module
 */
import type { LeakReport, Lease, TracedPool } from "leak-lab/pool.ts";

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
let guards = 0;

export async function withLeaseGuard<T>(pool: TracedPool, body: () => Promise<T>): Promise<T> {
  const before = new Set(pool.leaks().map((leak) => leak.leaseId));
  const byId = new Map<number, Lease>();
  const acquire = pool.acquire.bind(pool);
  const own = Object.hasOwn(pool, "acquire") ? pool.acquire : undefined;
  pool.acquire = async () => {
    const lease = await acquire();
    byId.set(lease.id, lease);
    return lease;
  };
  let result: [ok: true, value: T] | [ok: false, error: unknown];
  try {
    result = [true, await pool.scope(`lease_guard#${++guards}`, body)];
  } catch (error) {
    result = [false, error];
  } finally {
    if (own) pool.acquire = own;
    else delete (pool as { acquire?: unknown }).acquire;
  }
  // Detected when the guard's scope (or one of the body's own) ended with them out.
  const leaks = pool.leaks().filter((leak) => !before.has(leak.leaseId) && byId.has(leak.leaseId));
  if (leaks.length > 0) {
    for (const leak of leaks) byId.get(leak.leaseId)!.release(true);
    throw new LeakedLeaseError(leaks, result[0] ? undefined : { cause: result[1] });
  }
  if (!result[0]) throw result[1];
  return result[1];
}

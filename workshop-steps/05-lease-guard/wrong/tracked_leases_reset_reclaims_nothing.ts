// Mistake: it finds and names the body's open leases correctly, but 'reclaims' them with pool.reset(), which only takes back leases already detected as leaked — these never were, so they stay out and the next test starts with a short pool.
// Expect: "that line is your guard's own"
/**
 * Step 5: a test helper that fails a test when a connection outlives it, as
 * Deno's resource sanitizer fails a test that leaves a file or socket open.
 *
 * @example
 * ```ts ignore
 * Deno.test("listSensors() returns its connection", () =>
 *   withLeaseGuard(pool, async () => {
 *     await listSensors(pool, faults);
 *   }));
 * ```
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
 *
 * @returns what `body` returned
 * @throws {LeakedLeaseError} when `body` left connections out (its own error, if any, as `cause`)
 * @throws whatever `body` threw, when it left nothing out
 */
export async function withLeaseGuard<T>(pool: TracedPool, body: () => Promise<T>): Promise<T> {
  const taken: Lease[] = [];
  const acquire = pool.acquire;
  pool.acquire = async function (this: TracedPool) {
    const lease = await acquire.call(pool);
    taken.push(lease);
    return lease;
  };
  let outcome: { value: T } | { error: unknown };
  try {
    outcome = { value: await body() };
  } catch (error) {
    outcome = { error };
  } finally {
    pool.acquire = acquire;
  }
  const open = taken.filter((lease) => lease.state === "active");
  if (open.length > 0) {
    const leaks = open.map((lease) => lease.report());
    pool.reset(); // give the connections back so the next test has a full pool
    throw new LeakedLeaseError(leaks, "error" in outcome ? { cause: outcome.error } : undefined);
  }
  if ("error" in outcome) throw outcome.error;
  return outcome.value;
}

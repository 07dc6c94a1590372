// Mistake: wrapping pool.acquire() to record the body's leases puts the wrapper's own frame first on every acquire stack, so each LeakReport names lease_guard.ts (the wrapper line) as the acquire site instead of the test's file:line the README asks for.
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
import { AsyncLocalStorage } from "node:async_hooks";
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
const ledger = new AsyncLocalStorage<Set<Lease>>();
const instrumented = new WeakSet<TracedPool>();

function instrument(pool: TracedPool): void {
  if (instrumented.has(pool)) return;
  instrumented.add(pool);
  const acquire = pool.acquire.bind(pool);
  pool.acquire = async () => {
    const lease = await acquire();
    ledger.getStore()?.add(lease);
    return lease;
  };
}

export async function withLeaseGuard<T>(pool: TracedPool, body: () => Promise<T>): Promise<T> {
  instrument(pool);
  const mine = new Set<Lease>();
  const settled = await ledger.run(mine, () =>
    body().then(
      (value) => ({ ok: true as const, value }),
      (error: unknown) => ({ ok: false as const, error }),
    ));
  const stillOut = [...mine].filter((lease) => lease.state === "active");
  if (stillOut.length === 0) {
    if (settled.ok) return settled.value;
    throw settled.error;
  }
  const leaks = stillOut.map((lease) => lease.report());
  for (const lease of stillOut) lease.release(true); // destroyed, not pooled: the backend goes away
  throw new LeakedLeaseError(leaks, settled.ok ? undefined : { cause: settled.error });
}

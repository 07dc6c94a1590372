// Mistake: attribution via AsyncLocalStorage and an acquire() wrapper is exact, but the wrapper's own frame is now the first caller outside the pool, so every lease (and LeakedLeaseError) names the guard file's line as the acquire site instead of the test's file:line.
// Expect: "that line is your guard's own"
/**
 * Step 5: a test helper that fails a test when a connection outlives it, as
 * Deno's resource sanitizer fails a test that leaves a file or socket open.
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
 */
const current = new AsyncLocalStorage<Set<Lease>>();
const wrapped = new WeakSet<TracedPool>();

/** Once per pool: every acquire() made inside a guard is remembered by that guard. */
function remember(pool: TracedPool): void {
  if (wrapped.has(pool)) return;
  wrapped.add(pool);
  const acquire = pool.acquire.bind(pool);
  pool.acquire = async () => {
    const guard = current.getStore();
    const lease = await acquire();
    guard?.add(lease);
    return lease;
  };
}

export async function withLeaseGuard<T>(pool: TracedPool, body: () => Promise<T>): Promise<T> {
  remember(pool);
  const taken = new Set<Lease>();
  const settled = await current.run(taken, body).then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  const left = [...taken].filter((lease) => lease.state === "active");
  if (left.length > 0) {
    const leaks = left.map((lease) => lease.report());
    for (const lease of left) lease.release(true); // destroyed, not pooled: the test may have left it in any state
    throw new LeakedLeaseError(leaks, settled.ok ? undefined : { cause: settled.error });
  }
  if (!settled.ok) throw settled.error;
  return settled.value;
}

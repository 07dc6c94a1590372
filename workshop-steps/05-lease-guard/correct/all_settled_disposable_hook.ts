// Correct: Promise.allSettled keeps the body's value or exact rejection, the pool's scope marks what the body left out, and a 'using'-scoped Lease.prototype.report hook hands back the Lease objects behind the new entries in pool.leaks(), which are destroyed individually — earlier leaks and the caller's connection are neither reported nor reclaimed.
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
import { type LeakReport, Lease, type TracedPool } from "leak-lab/pool.ts";

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
/** Until disposed, every Lease that builds its report is recorded in `into`. */
function recordReporting(into: Map<number, Lease>): Disposable {
  const report = Lease.prototype.report;
  Lease.prototype.report = function (this: Lease): LeakReport {
    into.set(this.id, this);
    return report.call(this);
  };
  return { [Symbol.dispose]: () => void (Lease.prototype.report = report) };
}

export async function withLeaseGuard<T>(pool: TracedPool, body: () => Promise<T>): Promise<T> {
  const earlier = new Set(pool.leaks().map((leak) => leak.leaseId));
  const [settled] = await Promise.allSettled([pool.scope("lease_guard", body)]);
  const leases = new Map<number, Lease>();
  let leaks: LeakReport[];
  {
    using _recording = recordReporting(leases);
    leaks = pool.leaks().filter((leak) => !earlier.has(leak.leaseId));
  }
  if (leaks.length > 0) {
    for (const leak of leaks) leases.get(leak.leaseId)?.release(true);
    throw new LeakedLeaseError(leaks, settled.status === "rejected" ? { cause: settled.reason } : undefined);
  }
  if (settled.status === "rejected") throw settled.reason;
  return settled.value;
}

// Mistake: when the body both leaks and throws, the LeakedLeaseError thrown from finally replaces the body's error instead of carrying it as cause, so the test report loses why the body failed.
// Expect: "cause should be the body's own error"
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
/** pool.leaks(), each report with the Lease it was made from (caught while pool.leaks() builds the reports). */
function leaksWithLeases(pool: TracedPool): { report: LeakReport; lease: Lease }[] {
  const seen = new Map<number, Lease>();
  const report = Lease.prototype.report;
  Lease.prototype.report = function (this: Lease): LeakReport {
    seen.set(this.id, this);
    return report.call(this);
  };
  let reports: LeakReport[];
  try {
    reports = pool.leaks();
  } finally {
    Lease.prototype.report = report;
  }
  return reports.map((r) => ({ report: r, lease: seen.get(r.leaseId)! }));
}

export async function withLeaseGuard<T>(pool: TracedPool, body: () => Promise<T>): Promise<T> {
  const before = new Set(pool.leaks().map((leak) => leak.leaseId));
  try {
    return await pool.scope("lease_guard", body);
  } finally {
    const mine = leaksWithLeases(pool).filter(({ report }) => !before.has(report.leaseId));
    if (mine.length > 0) {
      for (const { lease } of mine) lease.release(true);
      // Throwing from finally replaces whatever the body returned or threw: the leak wins.
      // deno-lint-ignore no-unsafe-finally
      throw new LeakedLeaseError(mine.map(({ report }) => report));
    }
  }
}

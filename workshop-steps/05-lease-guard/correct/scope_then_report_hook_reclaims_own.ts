// Correct: the pool's own scope marks what the body still holds (so reports carry the real acquire site), pool.leaks() minus the leases detected before names them, and a momentary Lease.prototype.report hook yields exactly those leases to close with release(true) — never reset(), so an earlier leak and the caller's connection stay untouched.
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
  let outcome: { value: T } | { error: unknown };
  try {
    // When the scope ends, the pool itself marks every connection the body still holds as leaked.
    outcome = { value: await pool.scope("lease_guard", body) };
  } catch (error) {
    outcome = { error };
  }
  const mine = leaksWithLeases(pool).filter(({ report }) => !before.has(report.leaseId));
  if (mine.length > 0) {
    for (const { lease } of mine) lease.release(true); // closed, not pooled; earlier leaks stay as they are
    throw new LeakedLeaseError(
      mine.map(({ report }) => report),
      "error" in outcome ? { cause: outcome.error } : undefined,
    );
  }
  if ("error" in outcome) throw outcome.error;
  return outcome.value;
}

// Mistake: like a resource sanitizer it diffs pool.stats().active and the history's acquire/release samples, so it cannot name the backend pid or acquire site, never reclaims the connection (reset() only takes back leases marked leaked), and blames leases other concurrent requests took during the body.
// Expect: "LeakedLeaseError.leaks should list exactly connection"
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
  const startedAt = performance.timeOrigin + performance.now();
  const activeBefore = pool.stats().active;
  let outcome: { value: T } | { error: unknown };
  try {
    outcome = { value: await body() };
  } catch (error) {
    outcome = { error };
  }
  if (pool.stats().active > activeBefore) {
    const open = new Map<number, number>();
    for (const sample of pool.history()) {
      if (sample.at < startedAt || sample.leaseId === undefined) continue;
      if (sample.change === "acquire") open.set(sample.leaseId, sample.at);
      else if (sample.change === "release" || sample.change === "reclaim" || sample.change === "lost") {
        open.delete(sample.leaseId);
      }
    }
    const leaks: LeakReport[] = [...open].map(([leaseId, at]) => ({
      leaseId,
      pid: 0,
      ageMs: Math.round(performance.timeOrigin + performance.now() - at),
      acquiredAt: new Date(at).toISOString(),
      site: "(unknown: acquired during this test)",
      stack: "",
    }));
    pool.reset();
    throw new LeakedLeaseError(leaks, "error" in outcome ? { cause: outcome.error } : undefined);
  }
  if ("error" in outcome) throw outcome.error;
  return outcome.value;
}

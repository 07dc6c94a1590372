// Correct: Uses a unique scope name per run and a private sentinel for "no error" (so undefined, 0, "" thrown or returned all pass through untouched), compares leak ids taken just before the body, and reclaims with pool.reset() only when the body itself left something out.
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
const NOTHING_THROWN = Symbol("nothing thrown");
let guardRuns = 0;

export async function withLeaseGuard<T>(pool: TracedPool, body: () => Promise<T>): Promise<T> {
  const scopeName = `lease-guard#${++guardRuns}`;
  const known = new Set<number>();
  for (const leak of pool.leaks()) known.add(leak.leaseId);
  let thrown: unknown = NOTHING_THROWN;
  let value!: T;
  try {
    value = await pool.scope(scopeName, async () => await body());
  } catch (error) {
    thrown = error;
  }
  const kept: LeakReport[] = [];
  for (const leak of pool.leaks()) if (!known.has(leak.leaseId)) kept.push(leak);
  if (kept.length) {
    pool.reset();
    throw new LeakedLeaseError(kept, thrown === NOTHING_THROWN ? undefined : { cause: thrown });
  }
  if (thrown !== NOTHING_THROWN) throw thrown;
  return value;
}

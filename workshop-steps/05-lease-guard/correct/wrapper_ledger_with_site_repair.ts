// Correct: an AsyncLocalStorage ledger behind a wrapped acquire() collects exactly this body's leases (not a concurrent request's), and each report drops the wrapper's own leading stack frame and recomputes the site as the pool does, so it names the test's file:line; leftovers are destroyed one by one and the body's outcome passes through.
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
import { relativeToProject } from "leak-lab/util/project_path.ts";

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
/** This module as it appears in a (project-relative) stack frame. */
const HERE = relativeToProject(import.meta.url);
/** `location:line:column` at the end of a frame, with or without parentheses. */
const FRAME = /\(?([^\s()]+?):(\d+):(\d+)\)?\s*$/;
/** Frames the pool's own acquire site skips: libraries and runtime internals. */
const LIBRARY = /\/node_modules\/|\(?npm:|\(ext:|\(node:/;

const ledger = new AsyncLocalStorage<Lease[]>();
const wrapped = new WeakSet<TracedPool>();

function wrap(pool: TracedPool): void {
  if (wrapped.has(pool)) return;
  wrapped.add(pool);
  const acquire = pool.acquire.bind(pool);
  pool.acquire = async () => {
    const lease = await acquire();
    ledger.getStore()?.push(lease);
    return lease;
  };
}

/** The lease's report as if acquire() had not been wrapped: the wrapper's frame is not the acquire site. */
function reportOf(lease: Lease): LeakReport {
  const report = lease.report();
  if (!lease.siteCaptured) return report;
  const frames = report.stack.split("\n");
  while (frames.length > 1 && frames[0].includes(`${HERE}:`)) frames.shift();
  const stack = frames.join("\n");
  const match = FRAME.exec(frames.find((frame) => !LIBRARY.test(frame)) ?? frames[0]);
  if (!match) return { ...report, stack };
  const location = match[1] === "<anonymous>" ? "notebook cell" : match[1];
  return { ...report, site: `${location}:${match[2]}:${match[3]}`, stack };
}

export async function withLeaseGuard<T>(pool: TracedPool, body: () => Promise<T>): Promise<T> {
  wrap(pool);
  const taken: Lease[] = [];
  let outcome: { value: T } | { error: unknown };
  try {
    outcome = { value: await ledger.run(taken, body) };
  } catch (error) {
    outcome = { error };
  }
  const left = taken.filter((lease) => lease.state === "active");
  if (left.length > 0) {
    const leaks = left.map(reportOf);
    for (const lease of left) lease.release(true); // destroyed: its backend goes away
    throw new LeakedLeaseError(leaks, "error" in outcome ? { cause: outcome.error } : undefined);
  }
  if ("error" in outcome) throw outcome.error;
  return outcome.value;
}

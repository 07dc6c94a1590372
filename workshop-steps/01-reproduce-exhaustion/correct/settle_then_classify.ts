// Correct: each request is awaited as a tagged settlement (then with two callbacks) and a full outcome log is filtered at the end, but it still stops sending at the first PoolExhaustedError and reports the very error.
/**
 * Step 1: reproduce the outage and say when it started.
 *
 * `findExhaustion()` sends requests one after another, as a load test would,
 * and reports the first one that found the pool exhausted — together with the
 * requests that failed before it, where the connections were lost.
 *
 * @module
 */
import { PoolExhaustedError } from "leak-lab/pool.ts";

/** Where a run of requests first found the pool exhausted. */
export interface Exhaustion {
  /** 1-based number of the first request that failed with `PoolExhaustedError`. */
  request: number;
  /** The error that request failed with. */
  error: PoolExhaustedError;
  /** The requests that failed earlier for any other reason (a failed query, …), in order. */
  failedBefore: number[];
}

/**
 * Sends up to `maxRequests` requests and stops at the first one that finds the
 * pool exhausted. Returns undefined when none did.
 */
export async function findExhaustion(
  sendRequest: () => Promise<unknown>,
  maxRequests: number,
): Promise<Exhaustion | undefined> {
  type Outcome = { request: number; ok: true } | { request: number; ok: false; error: unknown };
  const log: Outcome[] = [];
  for (let request = 1; request <= maxRequests; request++) {
    const outcome: Outcome = await sendRequest().then(
      (): Outcome => ({ request, ok: true }),
      (error: unknown): Outcome => ({ request, ok: false, error }),
    );
    log.push(outcome);
    if (!outcome.ok && outcome.error instanceof PoolExhaustedError) {
      const failedBefore = log.filter((o) => !o.ok && o.request < request).map((o) => o.request);
      return { request, error: outcome.error, failedBefore };
    }
  }
  return undefined;
}

// Mistake: sends requests in concurrent batches of four to speed the load test up, so requests are no longer one at a time and requests after the exhausted one in its batch are still sent.
// Expect: "requests in flight at once"
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
  const failedBefore: number[] = [];
  const batch = 4;
  for (let first = 1; first <= maxRequests; first += batch) {
    const numbers = Array.from({ length: Math.min(batch, maxRequests - first + 1) }, (_, i) => first + i);
    const outcomes = await Promise.allSettled(numbers.map(() => sendRequest()));
    for (const [i, outcome] of outcomes.entries()) {
      if (outcome.status === "fulfilled") continue;
      if (outcome.reason instanceof PoolExhaustedError) {
        return { request: numbers[i], error: outcome.reason, failedBefore };
      }
      failedBefore.push(numbers[i]);
    }
  }
  return undefined;
}

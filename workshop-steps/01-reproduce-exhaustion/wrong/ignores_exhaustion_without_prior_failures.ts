// Mistake: a PoolExhaustedError with no earlier failure is dismissed as ordinary load and the loop carries on, but the README asks for the first request that fails with PoolExhaustedError whatever preceded it.
// Expect: "Other code held every connection before the first request"
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
  for (let request = 1; request <= maxRequests; request++) {
    try {
      await sendRequest();
    } catch (error) {
      if (error instanceof PoolExhaustedError) {
        // No failure before it means nothing leaked: the pool was just busy. Not our outage.
        if (failedBefore.length === 0) continue;
        return { request, error, failedBefore };
      }
      failedBefore.push(request);
    }
  }
  return undefined;
}

// Mistake: assumes the pool holds 5 connections and only checks for PoolExhaustedError once 5 queries have failed, so with a smaller pool the real exhaustion is filed as a query failure and the wrong request is reported.
// Expect: "PoolExhaustedError: pool"
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
  const POOL_MAX = 5; // the scenario's pool
  const failedBefore: number[] = [];
  for (let request = 1; request <= maxRequests; request++) {
    try {
      await sendRequest();
    } catch (error) {
      // The pool cannot run dry before every one of its connections has leaked.
      if (failedBefore.length >= POOL_MAX && error instanceof PoolExhaustedError) {
        return { request, error, failedBefore };
      }
      failedBefore.push(request);
    }
  }
  return undefined;
}

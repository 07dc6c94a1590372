// Mistake: it recognises exhaustion by the word "timeout" in the message, but the cancelled query's own message ("canceling statement due to statement timeout") matches too, so the first query failure is reported as the outage.
// Expect: "that is a query failure, not exhaustion"
import type { PoolExhaustedError } from "leak-lab/pool.ts";

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
      const message = error instanceof Error ? error.message : String(error);
      // An exhausted pool is an acquire() that timed out waiting for a connection.
      if (/timeout|exhausted/i.test(message)) {
        return { request, error: error as PoolExhaustedError, failedBefore };
      }
      failedBefore.push(request);
    }
  }
  return undefined;
}

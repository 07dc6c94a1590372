// Mistake: the loop bound is `< maxRequests`, so the last request is never sent: an exhaustion at request maxRequests is missed and, with the fixed handler, only 11 of 12 requests go out.
// Expect: "is the one that finds it exhausted"
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
  for (let request = 1; request < maxRequests; request++) {
    try {
      await sendRequest();
    } catch (error) {
      if (error instanceof PoolExhaustedError) return { request, error, failedBefore };
      failedBefore.push(request);
    }
  }
  return undefined;
}

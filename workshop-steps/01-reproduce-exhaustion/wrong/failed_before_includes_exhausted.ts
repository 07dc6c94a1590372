// Mistake: it records every failed request in failedBefore before checking what it failed with, so the exhausted request itself ends up in failedBefore, which must list only the requests that failed before it for another reason.
// Expect: "which includes request"
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
      failedBefore.push(request);
      if (error instanceof PoolExhaustedError) return { request, error, failedBefore };
    }
  }
  return undefined;
}

// Mistake: it numbers requests from 0, so the exhausted request and every entry of failedBefore are one less than the README's 1-based numbering.
// Expect: "requests are numbered from 1"
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
  for (let request = 0; request < maxRequests; request++) {
    try {
      await sendRequest();
    } catch (error) {
      if (error instanceof PoolExhaustedError) return { request, error, failedBefore };
      failedBefore.push(request);
    }
  }
  return undefined;
}

// Mistake: it assumes the outage starts where failures stop alternating with successes (the second failure in a row), which holds for every-Nth schedules but not for a random one where two queries can fail back to back well before the pool is dry.
// Expect: "was first exhausted at request"
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
  let previousFailed = false;
  for (let request = 1; request <= maxRequests; request++) {
    try {
      await sendRequest();
      previousFailed = false;
    } catch (error) {
      // Failed queries come and go; once the pool is dry every request fails, back to back.
      if (previousFailed) return { request, error: error as PoolExhaustedError, failedBefore };
      failedBefore.push(request);
      previousFailed = true;
    }
  }
  return undefined;
}

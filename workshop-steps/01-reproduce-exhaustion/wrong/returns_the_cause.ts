// Mistake: returns the exhaustion's underlying cause (pg's timeout) instead of the PoolExhaustedError that sendRequest() threw.
// Expect: "with an error the request did not get"
/**
 * Step 1: reproduce the outage and say when it started — a known-wrong attempt, kept so CI proves the checkpoint
 * rejects it.
 *
 * @module
 */
import { PoolExhaustedError } from "leak-lab/pool.ts";

/** Where a run of requests first found the pool exhausted. */
export interface Exhaustion {
  request: number;
  error: PoolExhaustedError;
  failedBefore: number[];
}

/** Sends up to `maxRequests` requests and stops at the first one that finds the pool exhausted. */
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
        // The root cause is more useful than the wrapper.
        return { request, error: (error.cause ?? error) as PoolExhaustedError, failedBefore };
      }
      failedBefore.push(request);
    }
  }
  return undefined;
}

// Mistake: believes the outage can only follow failures that leaked, so a PoolExhaustedError before any failure is filed as an ordinary failure.
// Expect: "the pool can be dry before any of your requests fails"
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
      // The outage is caused by earlier failures, so it cannot be the first failure.
      if (error instanceof PoolExhaustedError && failedBefore.length > 0) return { request, error, failedBefore };
      failedBefore.push(request);
    }
  }
  return undefined;
}

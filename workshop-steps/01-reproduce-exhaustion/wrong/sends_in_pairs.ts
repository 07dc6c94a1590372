// Mistake: sends requests two at a time to go faster: two requests in flight, so "the first exhausted" is no longer defined.
// Expect: "requests in flight at once"
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
  for (let first = 1; first <= maxRequests; first += 2) {
    const batch = first + 1 <= maxRequests ? [sendRequest(), sendRequest()] : [sendRequest()];
    const results = await Promise.allSettled(batch);
    for (const [i, result] of results.entries()) {
      if (result.status === "fulfilled") continue;
      if (result.reason instanceof PoolExhaustedError) {
        return { request: first + i, error: result.reason, failedBefore };
      }
      failedBefore.push(first + i);
    }
  }
  return undefined;
}

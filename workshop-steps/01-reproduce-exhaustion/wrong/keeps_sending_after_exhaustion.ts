// Mistake: remembers the first exhaustion but keeps sending until maxRequests: a load test that does not stop at the outage.
// Expect: "kept sending"
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
  let found: Exhaustion | undefined;
  for (let request = 1; request <= maxRequests; request++) {
    try {
      await sendRequest();
    } catch (error) {
      if (error instanceof PoolExhaustedError) found ??= { request, error, failedBefore: [...failedBefore] };
      else if (!found) failedBefore.push(request);
    }
  }
  return found;
}

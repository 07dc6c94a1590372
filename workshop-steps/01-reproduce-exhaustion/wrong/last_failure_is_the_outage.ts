// Mistake: when no PoolExhaustedError came, reports the last failed request as the outage instead of returning undefined.
// Expect: "no request found the pool exhausted"
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
  let lastError: unknown;
  for (let request = 1; request <= maxRequests; request++) {
    try {
      await sendRequest();
    } catch (error) {
      if (error instanceof PoolExhaustedError) return { request, error, failedBefore };
      failedBefore.push(request);
      lastError = error;
    }
  }
  const last = failedBefore.pop();
  if (last === undefined) return undefined;
  return { request: last, error: lastError as PoolExhaustedError, failedBefore };
}

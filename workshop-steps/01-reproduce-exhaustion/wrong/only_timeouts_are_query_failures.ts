// Mistake: takes SQLSTATE 57014 for the only kind of failed request: any other error is reported as the exhaustion.
// Expect: "not a PoolExhaustedError"
/**
 * Step 1: reproduce the outage and say when it started — a known-wrong attempt, kept so CI proves the checkpoint
 * rejects it.
 *
 * @module
 */
import type { PoolExhaustedError } from "leak-lab/pool.ts";

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
      if ((error as { code?: string }).code === "57014") {
        failedBefore.push(request);
        continue;
      }
      return { request, error: error as PoolExhaustedError, failedBefore };
    }
  }
  return undefined;
}

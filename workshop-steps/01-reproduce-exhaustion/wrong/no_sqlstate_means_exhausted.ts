// Mistake: any error with a SQLSTATE is a query failure, any without one the exhaustion: an app error (TypeError, …) is taken for the outage.
// Expect: "an ordinary failure with no SQLSTATE"
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
      const code = (error as { code?: unknown }).code;
      if (typeof code === "string") failedBefore.push(request);
      else return { request, error: error as PoolExhaustedError, failedBefore };
    }
  }
  return undefined;
}

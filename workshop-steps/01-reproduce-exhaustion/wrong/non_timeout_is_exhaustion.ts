// Mistake: anything that is not a SQLSTATE 57014 statement timeout is taken for exhaustion and cast to PoolExhaustedError, so any other failure (a connection error, a different SQLSTATE) is reported as the outage.
// Expect: "as the first exhausted one"
/**
 * Step 1: reproduce the outage and say when it started.
 *
 * `findExhaustion()` sends requests one after another, as a load test would,
 * and reports the first one that found the pool exhausted — together with the
 * requests that failed before it, where the connections were lost.
 *
 * @module
 */
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
  for (let request = 1; request <= maxRequests; request++) {
    try {
      await sendRequest();
    } catch (error) {
      // The query failures are the statement timeouts; everything else is the pool.
      if ((error as { code?: string }).code === "57014") {
        failedBefore.push(request);
        continue;
      }
      return { request, error: error as PoolExhaustedError, failedBefore };
    }
  }
  return undefined;
}

// Mistake: it takes any error without a SQLSTATE for exhaustion, so a connection error (or any other non-Postgres failure) before the pool runs dry is reported as the outage instead of going into failedBefore, while the README asks for the first PoolExhaustedError.
// Expect: "an ordinary failure with no SQLSTATE"
import type { PoolExhaustedError } from "leak-lab/pool.ts";
import { sqlstate } from "leak-lab/postgres.ts";

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
      // A query that Postgres failed carries its SQLSTATE; the pool's own error does not.
      if (sqlstate(error) !== undefined) {
        failedBefore.push(request);
        continue;
      }
      return { request, error: error as PoolExhaustedError, failedBefore };
    }
  }
  return undefined;
}

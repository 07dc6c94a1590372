// Mistake: treats every error without a Postgres SQLSTATE as exhaustion, so a PoolEndedError or a DatabaseConnectionError (no SQLSTATE either) is reported as the first exhausted request.
// Expect: "an ordinary failure with no SQLSTATE, not the outage"
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
      const code = (error as { code?: unknown }).code;
      const fromPostgres = typeof code === "string" && /^[0-9A-Z]{5}$/.test(code);
      // Postgres errors carry a SQLSTATE; the pool's own errors do not.
      if (!fromPostgres) return { request, error: error as PoolExhaustedError, failedBefore };
      failedBefore.push(request);
    }
  }
  return undefined;
}

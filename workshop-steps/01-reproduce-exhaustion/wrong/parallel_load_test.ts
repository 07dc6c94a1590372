// Mistake: it fires all requests at once like a load generator, but the README requires one request at a time and stopping at the exhausted one; concurrent requests exhaust the pool at a different request and every request is sent even after the outage.
// Expect: "requests in flight at once"
import { PoolExhaustedError } from "leak-lab/pool.ts";

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
  const results = await Promise.allSettled(Array.from({ length: maxRequests }, () => sendRequest()));
  const failedBefore: number[] = [];
  for (const [index, result] of results.entries()) {
    const request = index + 1;
    if (result.status === "fulfilled") continue;
    if (result.reason instanceof PoolExhaustedError) return { request, error: result.reason, failedBefore };
    failedBefore.push(request);
  }
  return undefined;
}

// Correct: an async generator yields each request's settled result lazily, so the consumer pulls exactly one request at a time and breaking out at the first PoolExhaustedError (an instanceof check) sends nothing more.
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

async function* settle(sendRequest: () => Promise<unknown>, maxRequests: number) {
  for (let request = 1; request <= maxRequests; request++) {
    let settled: { request: number; failed: boolean; error: unknown };
    try {
      await sendRequest();
      settled = { request, failed: false, error: undefined };
    } catch (error) {
      settled = { request, failed: true, error };
    }
    yield settled;
  }
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
  for await (const { request, failed, error } of settle(sendRequest, maxRequests)) {
    if (!failed) continue;
    if (error instanceof PoolExhaustedError) return { request, error, failedBefore };
    failedBefore.push(request);
  }
  return undefined;
}

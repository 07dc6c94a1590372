// Correct: recognises PoolExhaustedError by instanceof anywhere in the cause chain (so a wrapping caller still counts), returns that same PoolExhaustedError object, files every other failure in failedBefore and stops right there.
/**
 * Step 1: reproduce the outage and say when it started.
 *
 * `findExhaustion()` sends requests one after another, as a load test would,
 * and reports the first one that found the pool exhausted — together with the
 * requests that failed before it, where the connections were lost.
 *
 * @module
 */
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
function exhaustionIn(error: unknown): PoolExhaustedError | undefined {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (e instanceof PoolExhaustedError) return e;
  }
  return undefined;
}

export async function findExhaustion(
  sendRequest: () => Promise<unknown>,
  maxRequests: number,
): Promise<Exhaustion | undefined> {
  const failedBefore: number[] = [];
  let request = 0;
  while (request < maxRequests) {
    request += 1;
    let thrown: { error: unknown } | undefined;
    try {
      await sendRequest();
    } catch (error) {
      thrown = { error };
    }
    if (!thrown) continue;
    const exhausted = exhaustionIn(thrown.error);
    if (exhausted) return { request, error: exhausted, failedBefore };
    failedBefore.push(request);
  }
  return undefined;
}

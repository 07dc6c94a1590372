// Correct: it imports the error class straight from leak-lab/pool/errors.ts (the same class pool.ts re-exports) and counts down instead of up, mapping back to 1-based request numbers.
import { PoolExhaustedError } from "leak-lab/pool/errors.ts";

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
  for (let left = maxRequests; left > 0; left--) {
    const request = maxRequests - left + 1;
    const error = await sendRequest().then(
      () => null,
      (e: unknown) => ({ e }),
    );
    if (error === null) continue;
    if (error.e instanceof PoolExhaustedError) return { request, error: error.e, failedBefore };
    failedBefore.push(request);
  }
  return undefined;
}

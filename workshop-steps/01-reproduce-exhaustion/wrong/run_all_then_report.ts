// Mistake: it keeps sending all maxRequests requests to get the full picture and only then reports the first exhausted one, but the README requires stopping at the exhausted request, and the extra requests change what the pool shows afterwards.
// Expect: "kept sending"
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
  const errors: (unknown | undefined)[] = [];
  for (let request = 1; request <= maxRequests; request++) {
    errors.push(await sendRequest().then(() => undefined, (error) => error ?? new Error("rejected")));
  }
  const first = errors.findIndex((error) => error instanceof PoolExhaustedError);
  if (first < 0) return undefined;
  const failedBefore = errors.slice(0, first).flatMap((error, index) => (error ? [index + 1] : []));
  return { request: first + 1, error: errors[first] as PoolExhaustedError, failedBefore };
}

// Mistake: it retries a request whose query failed, so each scheduled failure is sent twice (the README requires each request once) and the retry's outcome, not the request's, decides what is recorded.
// Expect: "sent more than once"
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
  const failedBefore: number[] = [];
  for (let request = 1; request <= maxRequests; request++) {
    let error: unknown;
    for (let attempt = 1; attempt <= 2; attempt++) {
      // A statement timeout is transient: a real client would retry it once.
      error = await sendRequest().then(() => undefined, (e) => e ?? new Error("rejected"));
      if (error === undefined || error instanceof PoolExhaustedError) break;
    }
    if (error instanceof PoolExhaustedError) return { request, error, failedBefore };
    if (error !== undefined) failedBefore.push(request);
  }
  return undefined;
}

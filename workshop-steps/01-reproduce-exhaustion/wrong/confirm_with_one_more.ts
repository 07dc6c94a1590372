// Mistake: after the first PoolExhaustedError it sends one more request to "confirm" the outage, so it does not stop at the exhausted request and sends a request the README says must not be sent.
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
  const failedBefore: number[] = [];
  for (let request = 1; request <= maxRequests; request++) {
    try {
      await sendRequest();
    } catch (error) {
      if (!(error instanceof PoolExhaustedError)) {
        failedBefore.push(request);
        continue;
      }
      // A single timeout could be a blip: make sure the pool stays dry before calling it an outage.
      if (request < maxRequests) await sendRequest().catch(() => {});
      return { request, error, failedBefore };
    }
  }
  return undefined;
}

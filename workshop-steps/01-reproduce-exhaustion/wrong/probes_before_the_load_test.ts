// Mistake: sends one probe request before the loop to check the service is up: the probe is a request too, so every number is one too low.
// Expect: "every call of sendRequest() is a request"
/**
 * Step 1: reproduce the outage and say when it started — a known-wrong attempt, kept so CI proves the checkpoint
 * rejects it.
 *
 * @module
 */
import { PoolExhaustedError } from "leak-lab/pool.ts";

/** Where a run of requests first found the pool exhausted. */
export interface Exhaustion {
  request: number;
  error: PoolExhaustedError;
  failedBefore: number[];
}

/** Sends up to `maxRequests` requests and stops at the first one that finds the pool exhausted. */
export async function findExhaustion(
  sendRequest: () => Promise<unknown>,
  maxRequests: number,
): Promise<Exhaustion | undefined> {
  const failedBefore: number[] = [];
  // Warm-up: make sure the service answers before measuring anything.
  await sendRequest().catch(() => {});
  for (let request = 1; request <= maxRequests; request++) {
    try {
      await sendRequest();
    } catch (error) {
      if (error instanceof PoolExhaustedError) return { request, error, failedBefore };
      failedBefore.push(request);
    }
  }
  return undefined;
}

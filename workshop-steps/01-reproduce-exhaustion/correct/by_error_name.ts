// Correct: tells the outage by the error's name in a while loop; no instanceof needed.
/**
 * Step 1: reproduce the outage and say when it started — a correct attempt in another style, kept so CI proves the
 * checkpoint accepts it.
 *
 * @module
 */
import type { PoolExhaustedError } from "leak-lab/pool.ts";

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
  let request = 0;
  while (request < maxRequests) {
    request += 1;
    const error = await sendRequest().then(() => undefined, (e: unknown) => e ?? new Error("rejected"));
    if (error === undefined) continue;
    if (error instanceof Error && error.name === "PoolExhaustedError") {
      return { request, error: error as PoolExhaustedError, failedBefore };
    }
    failedBefore.push(request);
  }
  return undefined;
}

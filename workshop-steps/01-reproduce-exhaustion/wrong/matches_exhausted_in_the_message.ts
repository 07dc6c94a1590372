// Mistake: recognises the outage by the word "exhausted" in the error's message: an ordinary failure that says it is taken for the outage.
// Expect: "whatever its message says"
/**
 * Step 1: reproduce the outage and say when it started — a known-wrong attempt, kept so CI proves the checkpoint
 * rejects it.
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
  for (let request = 1; request <= maxRequests; request++) {
    try {
      await sendRequest();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (/exhausted/i.test(message)) return { request, error: error as PoolExhaustedError, failedBefore };
      failedBefore.push(request);
    }
  }
  return undefined;
}

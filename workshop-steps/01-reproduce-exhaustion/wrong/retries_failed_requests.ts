// Mistake: retries a request whose query failed: every retry is one more request, and one more leaked connection.
// Expect: "sent more than once"
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
  for (let request = 1; request <= maxRequests; request++) {
    try {
      await sendRequest();
    } catch (error) {
      if (error instanceof PoolExhaustedError) return { request, error, failedBefore };
      failedBefore.push(request);
      await sendRequest().catch(() => {}); // one retry: the query is flaky
    }
  }
  return undefined;
}

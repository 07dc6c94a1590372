// Mistake: fires every request at once and looks for the first exhaustion by position: there is no "first" when they overlap.
// Expect: "requests in flight at once"
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
  const results = await Promise.allSettled(Array.from({ length: maxRequests }, () => sendRequest()));
  for (const [i, result] of results.entries()) {
    if (result.status === "fulfilled") continue;
    if (result.reason instanceof PoolExhaustedError) return { request: i + 1, error: result.reason, failedBefore };
    failedBefore.push(i + 1);
  }
  return undefined;
}

// Correct: Promise.allSettled over a single request per turn (still one at a time), the class compared by constructor.
/**
 * Step 1: reproduce the outage and say when it started — a correct attempt in another style, kept so CI proves the
 * checkpoint accepts it.
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
  const failures: number[] = [];
  for (const index of Array.from({ length: maxRequests }, (_, i) => i)) {
    const [outcome] = await Promise.allSettled([sendRequest()]);
    if (outcome.status === "fulfilled") continue;
    const reason: unknown = outcome.reason;
    if ((reason as object | null)?.constructor === PoolExhaustedError) {
      return { request: index + 1, error: reason as PoolExhaustedError, failedBefore: failures };
    }
    failures.push(index + 1);
  }
  return undefined;
}

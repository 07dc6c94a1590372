// Correct: one request per recursive call, each awaited before the next; the failures travel as an argument.
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
export function findExhaustion(
  sendRequest: () => Promise<unknown>,
  maxRequests: number,
): Promise<Exhaustion | undefined> {
  const next = async (request: number, failedBefore: readonly number[]): Promise<Exhaustion | undefined> => {
    if (request > maxRequests) return undefined;
    try {
      await sendRequest();
      return next(request + 1, failedBefore);
    } catch (error) {
      if (error instanceof PoolExhaustedError) return { request, error, failedBefore: [...failedBefore] };
      return next(request + 1, [...failedBefore, request]);
    }
  };
  return next(1, []);
}

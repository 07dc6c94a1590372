// Correct: a recursive promise chain instead of a loop still sends one request at a time, each once, classifies with instanceof, returns the very error and stops at the first exhaustion.
/**
 * Step 1: reproduce the outage and say when it started.
 *
 * `findExhaustion()` sends requests one after another, as a load test would,
 * and reports the first one that found the pool exhausted — together with the
 * requests that failed before it, where the connections were lost.
 *
 * @module
 */
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
export function findExhaustion(
  sendRequest: () => Promise<unknown>,
  maxRequests: number,
): Promise<Exhaustion | undefined> {
  const step = (request: number, failedBefore: readonly number[]): Promise<Exhaustion | undefined> => {
    if (request > maxRequests) return Promise.resolve(undefined);
    return Promise.resolve().then(sendRequest).then(
      () => step(request + 1, failedBefore),
      (error: unknown) =>
        error instanceof PoolExhaustedError
          ? { request, error, failedBefore: [...failedBefore] }
          : step(request + 1, [...failedBefore, request]),
    );
  };
  return step(1, []);
}

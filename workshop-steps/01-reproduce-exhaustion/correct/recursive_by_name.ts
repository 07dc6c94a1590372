// Correct: a recursive walk that recognises the pool's error by its name (the class sets name = "PoolExhaustedError"), one request per call, stopping at the first exhaustion and collecting every other failure in order.
import type { PoolExhaustedError } from "leak-lab/pool.ts";

/** Where a run of requests first found the pool exhausted. */
export interface Exhaustion {
  /** 1-based number of the first request that failed with `PoolExhaustedError`. */
  request: number;
  /** The error that request failed with. */
  error: PoolExhaustedError;
  /** The requests that failed earlier for any other reason (a failed query, …), in order. */
  failedBefore: number[];
}

function isExhausted(error: unknown): error is PoolExhaustedError {
  return error instanceof Error && error.name === "PoolExhaustedError";
}

/**
 * Sends up to `maxRequests` requests and stops at the first one that finds the
 * pool exhausted. Returns undefined when none did.
 */
export function findExhaustion(
  sendRequest: () => Promise<unknown>,
  maxRequests: number,
): Promise<Exhaustion | undefined> {
  const step = async (request: number, failedBefore: readonly number[]): Promise<Exhaustion | undefined> => {
    if (request > maxRequests) return undefined;
    let failure: { error: unknown } | undefined;
    try {
      await sendRequest();
    } catch (error) {
      failure = { error };
    }
    if (!failure) return step(request + 1, failedBefore);
    if (isExhausted(failure.error)) return { request, error: failure.error, failedBefore: [...failedBefore] };
    return step(request + 1, [...failedBefore, request]);
  };
  return step(1, []);
}

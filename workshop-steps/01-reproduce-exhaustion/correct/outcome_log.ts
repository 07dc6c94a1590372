// Correct: it keeps a log of every outcome as it goes and derives failedBefore from the log with filter/map at the moment the first PoolExhaustedError arrives, still sending strictly one request at a time and none after it.
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

type Outcome = { request: number; ok: true } | { request: number; ok: false; error: unknown };

/**
 * Sends up to `maxRequests` requests and stops at the first one that finds the
 * pool exhausted. Returns undefined when none did.
 */
export async function findExhaustion(
  sendRequest: () => Promise<unknown>,
  maxRequests: number,
): Promise<Exhaustion | undefined> {
  const log: Outcome[] = [];
  let request = 0;
  while (request < maxRequests) {
    request += 1;
    const outcome: Outcome = await sendRequest().then(
      (): Outcome => ({ request, ok: true }),
      (error): Outcome => ({ request, ok: false, error }),
    );
    if (!outcome.ok && outcome.error instanceof PoolExhaustedError) {
      const failedBefore = log.filter((o) => !o.ok).map((o) => o.request);
      return { request, error: outcome.error, failedBefore };
    }
    log.push(outcome);
  }
  return undefined;
}

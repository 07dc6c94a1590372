// Correct: recognises PoolExhaustedError by class, remembers the result in a variable and breaks out of the loop.
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
  let found: Exhaustion | undefined;
  const failed = new Set<number>();
  for (let n = 0; n < maxRequests; n++) {
    const request = n + 1;
    let caught: unknown = null;
    let threw = false;
    await sendRequest().catch((e) => {
      threw = true;
      caught = e;
    });
    if (!threw) continue;
    if (caught instanceof PoolExhaustedError) {
      found = { request, error: caught, failedBefore: [...failed] };
      break;
    }
    failed.add(request);
  }
  return found;
}

/**
 * Waits for a promise, but no longer than a deadline. Unlike std's
 * `deadline`, running out of time is an answer rather than an error: callers
 * that must not block (flushing to a Jaeger that is down, probing a port,
 * waiting for a server to start) just go on.
 *
 * @example
 * ```ts
 * import { raceTimeout } from "./race_timeout.ts";
 * const slow = new Promise((resolve) => setTimeout(resolve, 50));
 * const outcome = await raceTimeout(slow, 10);
 * console.log(outcome.settled); // false
 * await slow;
 * ```
 *
 * @module
 */

/** How a {@linkcode raceTimeout} ended: the promise's value, or no answer in time. */
export type RaceOutcome<T> = { settled: true; value: T } | { settled: false };

/** Resolves with `promise`'s value, or with `{ settled: false }` after `ms`; its timer never outlives the race. */
export async function raceTimeout<T>(promise: Promise<T>, ms: number): Promise<RaceOutcome<T>> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<{ settled: false }>((resolve) => {
    timer = setTimeout(() => resolve({ settled: false }), ms);
  });
  try {
    return await Promise.race([promise.then((value) => ({ settled: true as const, value })), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

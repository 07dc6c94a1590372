/**
 * Waits for `promise`, but no longer than `ms`. Unlike std's `deadline`, a
 * timeout is an answer rather than an error: callers that must not block
 * (flushing to a Jaeger that is down, probing a port) just go on.
 *
 * @example
 * ```ts
 * import { within } from "./within.ts";
 * const slow = new Promise((resolve) => setTimeout(resolve, 50));
 * const outcome = await within(slow, 10);
 * console.log(outcome.settled); // false
 * await slow;
 * ```
 */
export async function within<T>(
  promise: Promise<T>,
  ms: number,
): Promise<{ settled: true; value: T } | { settled: false }> {
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

/**
 * Polls until a condition holds, for what Postgres notices asynchronously
 * (a closed socket, a terminated backend). Returns the last value read, so
 * the caller's check reports what was really there if time ran out.
 *
 * @example
 * ```ts
 * import { eventually } from "./eventually.ts";
 * let ticks = 0;
 * const seen = await eventually(() => ++ticks, (n) => n >= 3, { intervalMs: 1 });
 * console.log(seen); // 3
 * ```
 *
 * @module
 */

/** Reads `read()` every `intervalMs` until `done(value)` or `timeoutMs` passes. */
export async function eventually<T>(
  read: () => T | Promise<T>,
  done: (value: T) => boolean,
  { timeoutMs = 2_000, intervalMs = 25 } = {},
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  let value = await read();
  while (!done(value) && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
    value = await read();
  }
  return value;
}

/**
 * Turns a `performance.now()` reading into OpenTelemetry's `[seconds, nanos]`.
 *
 * Passing explicit times to spans spares the SDK several clock reads per span
 * (each one a runtime call under Deno); the pool already reads the clock for
 * its own wait and use times, so the same reading serves both.
 *
 * @example
 * ```ts
 * import { hrTimeOf } from "./hr_time.ts";
 * const [seconds] = hrTimeOf(performance.now());
 * console.log(Math.abs(seconds - Date.now() / 1000) < 5); // true
 * ```
 */
import type { HrTime } from "@opentelemetry/api";

// The origin split into whole seconds and a remainder keeps nanosecond
// precision that a single epoch-milliseconds double would lose.
const ORIGIN_SECONDS = Math.floor(performance.timeOrigin / 1000);
const ORIGIN_REMAINDER_MS = performance.timeOrigin - ORIGIN_SECONDS * 1000;

export function hrTimeOf(performanceNowMs: number): HrTime {
  const ms = ORIGIN_REMAINDER_MS + performanceNowMs;
  const seconds = Math.floor(ms / 1000);
  return [ORIGIN_SECONDS + seconds, Math.round((ms - seconds * 1000) * 1e6)];
}

/**
 * A `performance.now()` reading as the span time OpenTelemetry wants: the one
 * clock for every span Leak Lab starts or ends (pool, scopes, notebook cells,
 * request series), so children nest in time within their parents. The SDK's
 * own default anchors each span to `Date.now()`, whose millisecond steps let
 * a child end up to 1 ms after its parent. The pool reads the clock once per
 * state change and gives that reading to its span, its metrics and its
 * history alike.
 *
 * `@opentelemetry/core`'s `hrTime(now)` adds the time origin and the reading
 * as two separate `[seconds, nanos]` pairs (three arrays per call, six calls
 * per lease); one `millisToHrTime` of their sum is one array, at a precision
 * of about 0.25 µs, far below what a trace shows.
 *
 * @example
 * ```ts
 * import { spanTime } from "./span_time.ts";
 * const [seconds] = spanTime(performance.now());
 * console.log(Math.abs(seconds - Date.now() / 1000) < 5); // true
 * ```
 *
 * @module
 */
import type { HrTime } from "@opentelemetry/api";
import { millisToHrTime } from "@opentelemetry/core";

/** `[seconds, nanoseconds]` since the epoch for a `performance.now()` reading. */
export function spanTime(performanceNowMs: number): HrTime {
  return millisToHrTime(performance.timeOrigin + performanceNowMs);
}

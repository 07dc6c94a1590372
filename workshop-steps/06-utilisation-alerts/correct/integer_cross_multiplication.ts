// Correct: compares `active * 100` with `threshold * max` in integers, so the edges (70 %, 85 %) are exact with no floating point, and rounds the reported percent to a whole number; `active` counts leaked leases as in use.
/**
 * Step 6: page someone before the pool runs dry. The original demo's advice:
 * alert at 70 % utilisation (warning) and at 85 % (critical).
 *
 * @module
 */
import { ALERT_THRESHOLDS, type PoolStats } from "leak-lab/pool.ts";

/** At or above this share of `max` in use: warning (70 %; the demo page and the alert rules use the same). */
export const WARNING_PERCENT = ALERT_THRESHOLDS.utilisation.warningPercent;
/** At or above this share of `max` in use: critical (85 %). */
export const CRITICAL_PERCENT = ALERT_THRESHOLDS.utilisation.criticalPercent;

/** How full a pool is, and how loudly to say so. */
export interface Utilisation {
  /** Share of the pool's `max` connections that are checked out, 0–100, rounded to a whole percent. */
  percent: number;
  level: "ok" | "warning" | "critical";
}

/** The pool's utilisation and alert level from its counters (`pool.stats()`). */
export function utilisation(stats: PoolStats): Utilisation {
  const used = stats.active * 100;
  const level: Utilisation["level"] = used >= CRITICAL_PERCENT * stats.max
    ? "critical"
    : used >= WARNING_PERCENT * stats.max
    ? "warning"
    : "ok";
  return { percent: Math.round(used / stats.max), level };
}

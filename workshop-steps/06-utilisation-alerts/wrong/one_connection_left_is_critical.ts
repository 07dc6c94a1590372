// Mistake: it thresholds on connections left instead of percent (critical when at most one is free, warning at most three), which reads a pool of 5 with 4 out (80 %) as critical and a pool of 20 with 17 out (85 %) as only a warning.
// Expect: "The percent is right, the level is not"
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
  const percent = Math.round((stats.active / stats.max) * 100);
  // What on-call actually cares about: how many more requests can get a connection.
  const level = stats.available <= 1 ? "critical" : stats.available <= 3 ? "warning" : "ok";
  return { percent, level };
}

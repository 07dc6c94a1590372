// Mistake: turns the thresholds into connection counts with Math.round(max * 85 / 100), which for a pool of 5 rounds 4.25 down to 4, so 4 of 5 (80 %) pages critical instead of warning; pools of 10 and 20 happen to be right.
// Expect: "turned the thresholds into connection counts"
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
  // Alert on whole connections: how many may be out before each level.
  const warnAt = Math.round((stats.max * WARNING_PERCENT) / 100);
  const critAt = Math.round((stats.max * CRITICAL_PERCENT) / 100);
  const level = stats.active >= critAt ? "critical" : stats.active >= warnAt ? "warning" : "ok";
  return { percent, level };
}

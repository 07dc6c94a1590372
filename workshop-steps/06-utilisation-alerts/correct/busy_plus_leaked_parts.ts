// Correct: splits the in-use count into live (`active - leaked`) and leaked parts and adds them back, which is `active` again, so leaked connections count as unavailable; a switch(true) picks the level at or above each threshold.
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
  const live = stats.active - stats.leaked;
  const inUse = live + stats.leaked; // a leaked connection is as unavailable as a busy one
  const percent = Math.round((100 * inUse) / stats.max);
  switch (true) {
    case percent >= CRITICAL_PERCENT:
      return { percent, level: "critical" };
    case percent >= WARNING_PERCENT:
      return { percent, level: "warning" };
    default:
      return { percent, level: "ok" };
  }
}

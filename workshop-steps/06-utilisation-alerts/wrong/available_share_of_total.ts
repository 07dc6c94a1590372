// Mistake: computes use as 1 - available / total rather than active / max; available counts against max but total only counts opened connections, so while the pool has opened fewer than max (1 leaked of 5 with total 1) it reads 0 % and only agrees once every connection is open.
// Expect: "compared stats.available with stats.total"
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
  const free = stats.total === 0 ? 1 : stats.available / stats.total;
  const percent = Math.max(0, Math.round((1 - free) * 100));
  const level = percent >= CRITICAL_PERCENT ? "critical" : percent >= WARNING_PERCENT ? "warning" : "ok";
  return { percent, level };
}

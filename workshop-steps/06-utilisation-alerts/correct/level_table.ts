// Correct: a descending threshold table read with find() gives the first level whose threshold the rounded active/max percent reaches, so 70 % is a warning and 85 % critical, and leaked leases count because they are in active.
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
  const percent = Math.round((100 * stats.active) / stats.max);
  const levels: ReadonlyArray<readonly [number, Utilisation["level"]]> = [
    [ALERT_THRESHOLDS.utilisation.criticalPercent, "critical"],
    [ALERT_THRESHOLDS.utilisation.warningPercent, "warning"],
    [0, "ok"],
  ];
  const [, level] = levels.find(([threshold]) => percent >= threshold)!;
  return { percent, level };
}

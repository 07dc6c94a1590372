// Correct: `max - available` is by definition `active` (leaked leases included), the level is read from a descending threshold table with `>=`, so 70 % is a warning and 85 % critical.
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
export function utilisation({ max, available }: PoolStats): Utilisation {
  const percent = Math.round(((max - available) / max) * 100);
  const levels = [
    [CRITICAL_PERCENT, "critical"],
    [WARNING_PERCENT, "warning"],
    [0, "ok"],
  ] as const;
  const [, level] = levels.find(([threshold]) => percent >= threshold) ?? [0, "ok"];
  return { percent, level };
}

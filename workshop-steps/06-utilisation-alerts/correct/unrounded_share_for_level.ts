// Correct: the level from the exact share (84.6 % is not yet 85 %), the percent rounded for display; integer arithmetic.
/**
 * Step 6: page someone before the pool runs dry — a correct attempt, kept so CI proves the checkpoint accepts it.
 *
 * @module
 */
import { ALERT_THRESHOLDS, type PoolStats } from "leak-lab/pool.ts";

/** At or above this share of `max` in use: warning. */
export const WARNING_PERCENT = ALERT_THRESHOLDS.utilisation.warningPercent;
/** At or above this share of `max` in use: critical. */
export const CRITICAL_PERCENT = ALERT_THRESHOLDS.utilisation.criticalPercent;

/** How full a pool is, and how loudly to say so. */
export interface Utilisation {
  percent: number;
  level: "ok" | "warning" | "critical";
}

/** The pool's utilisation and alert level from its counters (`pool.stats()`). */
export function utilisation(stats: PoolStats): Utilisation {
  const percent = Math.round((100 * stats.active) / stats.max);
  // Compare before rounding: 100·active against threshold·max, no floating point at all.
  const level = 100 * stats.active >= CRITICAL_PERCENT * stats.max
    ? "critical"
    : 100 * stats.active >= WARNING_PERCENT * stats.max
    ? "warning"
    : "ok";
  return { percent, level };
}

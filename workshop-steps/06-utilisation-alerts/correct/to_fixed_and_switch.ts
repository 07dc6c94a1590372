// Correct: rounds with Number(toFixed(0)) and picks the level with switch (true).
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
  const { active, max } = stats;
  const percent = Number(((active / max) * 100).toFixed(0));
  switch (true) {
    case percent >= CRITICAL_PERCENT:
      return { percent, level: "critical" };
    case percent >= WARNING_PERCENT:
      return { percent, level: "warning" };
    default:
      return { percent, level: "ok" };
  }
}

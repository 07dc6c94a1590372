// Mistake: the percent counts every checked-out connection, but the level follows the leaked ones only.
// Expect: "it follows only the leaked connections"
/**
 * Step 6: page someone before the pool runs dry — a known-wrong attempt, kept so CI proves the checkpoint rejects it.
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
  const percent = Math.round((stats.active / stats.max) * 100);
  // Busy connections come back by themselves; only leaks deserve a page.
  const leakedPercent = Math.round((stats.leaked / stats.max) * 100);
  const level = leakedPercent >= CRITICAL_PERCENT ? "critical" : leakedPercent >= WARNING_PERCENT ? "warning" : "ok";
  return { percent, level };
}

// Mistake: returns the percent as text from toFixed(0) (its own Utilisation type says string): "70" is not 70.
// Expect: "toFixed() returns a string"
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
  /** Ready to show on the dashboard. */
  percent: string;
  level: "ok" | "warning" | "critical";
}

/** The pool's utilisation and alert level from its counters (`pool.stats()`). */
export function utilisation(stats: PoolStats): Utilisation {
  const share = (stats.active / stats.max) * 100;
  const level = share >= CRITICAL_PERCENT ? "critical" : share >= WARNING_PERCENT ? "warning" : "ok";
  return { percent: share.toFixed(0), level };
}

// Mistake: critical only once no connection is left: the page comes with the outage, not before it.
// Expect: "only once no connection was left"
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
  // Critical means requests are about to fail: nothing left to hand out.
  const level = stats.available === 0 ? "critical" : percent >= WARNING_PERCENT ? "warning" : "ok";
  return { percent, level };
}

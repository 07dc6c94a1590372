// Mistake: uses stats.leaked when there are leaks, else stats.active: busy connections vanish as soon as one leaks.
// Expect: "counted only the leaked connections"
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
  // When something leaked, the leak is what fills the pool.
  const inUse = stats.leaked || stats.active;
  const percent = Math.round((inUse / stats.max) * 100);
  const level = percent >= CRITICAL_PERCENT ? "critical" : percent >= WARNING_PERCENT ? "warning" : "ok";
  return { percent, level };
}

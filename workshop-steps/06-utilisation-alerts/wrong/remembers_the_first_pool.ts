// Mistake: caches the pool size from the first call: every later pool is divided by the first one's max.
// Expect: "size of a pool it was given earlier"
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

let poolSize: number | undefined;

/** The pool's utilisation and alert level from its counters (`pool.stats()`). */
export function utilisation(stats: PoolStats): Utilisation {
  poolSize ??= stats.max; // the pool's size never changes
  const percent = Math.round((stats.active / poolSize) * 100);
  const level = percent >= CRITICAL_PERCENT ? "critical" : percent >= WARNING_PERCENT ? "warning" : "ok";
  return { percent, level };
}

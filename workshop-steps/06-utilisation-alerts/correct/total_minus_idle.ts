// Correct: counts checked-out connections as the open ones minus the idle ones (total - idle), with an if/else chain.
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
  // Open connections that are not sitting idle in the pool are handed out: busy or leaked alike.
  const handedOut = stats.total - stats.idle;
  const percent = Math.round((handedOut / stats.max) * 100);
  let level: Utilisation["level"] = "ok";
  if (percent >= CRITICAL_PERCENT) level = "critical";
  else if (percent >= WARNING_PERCENT) level = "warning";
  return { percent, level };
}

// Mistake: keeps the last level until the pool drops below the warning threshold (hysteresis): a drained pool still reads critical.
// Expect: "not of an earlier call"
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

let last: Utilisation["level"] = "ok";

/** The pool's utilisation and alert level from its counters (`pool.stats()`). */
export function utilisation(stats: PoolStats): Utilisation {
  const percent = Math.round((stats.active / stats.max) * 100);
  // No flapping: a level clears only once the pool is back below the warning threshold.
  const now = percent >= CRITICAL_PERCENT ? "critical" : percent >= WARNING_PERCENT ? "warning" : "ok";
  const level = now === "ok" || last === "ok" ? now : last === "critical" ? "critical" : now;
  last = level;
  return { percent, level };
}

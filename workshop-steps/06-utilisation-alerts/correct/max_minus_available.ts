// Correct: reads the checked-out count as max - available (the same number, by PoolStats' definition), and the levels from a table.
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

const LEVELS: readonly { from: number; level: Utilisation["level"] }[] = [
  { from: CRITICAL_PERCENT, level: "critical" },
  { from: WARNING_PERCENT, level: "warning" },
  { from: 0, level: "ok" },
];

/** The pool's utilisation and alert level from its counters (`pool.stats()`). */
export function utilisation(stats: PoolStats): Utilisation {
  const checkedOut = stats.max - stats.available;
  const percent = Math.round((checkedOut * 100) / stats.max);
  const level = LEVELS.find((entry) => percent >= entry.from)!.level;
  return { percent, level };
}

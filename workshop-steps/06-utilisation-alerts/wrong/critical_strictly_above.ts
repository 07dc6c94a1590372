// Mistake: warning uses `>=` but critical uses `>`, so exactly 85 % (e.g. 17 of 20 connections out) reads "warning"; pools of 5 and 10 never land on 85 % exactly, so only that edge shows it.
// Expect: "compare with >=, not >"
/**
 * Step 6: page someone before the pool runs dry. The original demo's advice:
 * alert at 70 % utilisation (warning) and at 85 % (critical).
 *
 * @module
 */
import { ALERT_THRESHOLDS, type PoolStats } from "leak-lab/pool.ts";

/** At or above this share of `max` in use: warning (70 %; the demo page and the alert rules use the same). */
export const WARNING_PERCENT = ALERT_THRESHOLDS.utilisation.warningPercent;
/** At or above this share of `max` in use: critical (85 %). */
export const CRITICAL_PERCENT = ALERT_THRESHOLDS.utilisation.criticalPercent;

/** How full a pool is, and how loudly to say so. */
export interface Utilisation {
  /** Share of the pool's `max` connections that are checked out, 0–100, rounded to a whole percent. */
  percent: number;
  level: "ok" | "warning" | "critical";
}

/** The pool's utilisation and alert level from its counters (`pool.stats()`). */
export function utilisation(stats: PoolStats): Utilisation {
  const percent = Math.round((stats.active / stats.max) * 100);
  let level: Utilisation["level"] = "ok";
  if (percent >= WARNING_PERCENT) level = "warning";
  if (percent > CRITICAL_PERCENT) level = "critical"; // past the critical line
  return { percent, level };
}

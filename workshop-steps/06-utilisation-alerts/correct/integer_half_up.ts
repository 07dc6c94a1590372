// Correct: rounds half up in integer arithmetic ((200 * active + max) div (2 * max) equals Math.round of active/max as a percent for non-negative counts) and picks the level with a switch(true), so every edge matches the rounded percent exactly.
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
  const { active, max } = stats;
  const percent = Math.floor((200 * active + max) / (2 * max));
  let level: Utilisation["level"];
  switch (true) {
    case percent >= CRITICAL_PERCENT:
      level = "critical";
      break;
    case percent >= WARNING_PERCENT:
      level = "warning";
      break;
    default:
      level = "ok";
  }
  return { percent, level };
}

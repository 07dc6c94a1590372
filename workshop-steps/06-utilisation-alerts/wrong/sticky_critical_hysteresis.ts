// Mistake: it keeps module-level alert state with hysteresis (critical stays until the pool drops below 70 %), so the level depends on earlier calls: a pool that fell from 90 % to 80 % still reads "critical", and one pool's state leaks into another's.
// Expect: "the level is the one of the stats it is given now"
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
let lastLevel: Utilisation["level"] = "ok";

export function utilisation(stats: PoolStats): Utilisation {
  const percent = Math.round((stats.active / stats.max) * 100);
  // Hysteresis, to stop a pool hovering at a threshold from flapping its alert.
  let level: Utilisation["level"];
  if (percent >= CRITICAL_PERCENT) level = "critical";
  else if (percent >= WARNING_PERCENT) level = lastLevel === "critical" ? "critical" : "warning";
  else level = "ok";
  lastLevel = level;
  return { percent, level };
}

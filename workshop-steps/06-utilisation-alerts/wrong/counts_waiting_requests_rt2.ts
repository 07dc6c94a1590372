// Mistake: it adds queued acquire() calls to the connections in use, so under contention (waiting > 0) the "share of max checked out" exceeds 100 % and a pool with spare connections can read critical; it only looks right when requests run one at a time.
// Expect: "waiting for a connection (stats.waiting) as in use"
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
  // Demand, not just supply: requests waiting for a connection are load on the pool too.
  const inUse = stats.active + stats.waiting;
  const percent = Math.round((inUse / stats.max) * 100);
  const level = percent >= CRITICAL_PERCENT ? "critical" : percent >= WARNING_PERCENT ? "warning" : "ok";
  return { percent, level };
}

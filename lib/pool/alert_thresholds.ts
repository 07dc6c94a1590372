/**
 * When a pool deserves an alert: the original demo's production advice,
 * kept here once. The demo page, the workshop's alert step, the notebooks
 * and the Prometheus alert rules all read these numbers; none keeps a copy.
 *
 * @example
 * ```ts
 * import { ALERT_THRESHOLDS } from "./alert_thresholds.ts";
 * const { warningPercent, criticalPercent } = ALERT_THRESHOLDS.utilisation;
 * console.log(warningPercent, criticalPercent); // 70 85
 * ```
 *
 * @module
 */

/** The alert levels for a connection pool. */
export interface AlertThresholds {
  /** Share of `max` connections checked out (leaked ones included), in percent. */
  readonly utilisation: {
    /** At or above this: warning. */
    readonly warningPercent: number;
    /** At or above this: critical. */
    readonly criticalPercent: number;
  };
  /** Longest a request should wait for a connection, in seconds; more is an alert. */
  readonly acquireWaitSeconds: number;
}

/** Warning at 70 % in use, critical at 85 %, and an alert when acquiring waits over 1 s. */
export const ALERT_THRESHOLDS: AlertThresholds = Object.freeze({
  utilisation: Object.freeze({ warningPercent: 70, criticalPercent: 85 }),
  acquireWaitSeconds: 1,
});

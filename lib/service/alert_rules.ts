/**
 * The Prometheus alert rules for a TracedPool, as data: thresholds from
 * `ALERT_THRESHOLDS`, series as the service's `GET /metrics` names them, and
 * descriptions that link to the Jaeger search for the leaking requests of the
 * instance that alerts. `deno task alerts` writes them to
 * `prometheus/alerts.yml`; the demo page shows the same list.
 *
 * | alert                         | fires when (per pool and instance)                          | severity |
 * |-------------------------------|-------------------------------------------------------------|----------|
 * | `DbPoolUtilisationWarning`    | % of max in use ≥ `utilisation.warningPercent`              | warning  |
 * | `DbPoolUtilisationCritical`   | % of max in use ≥ `utilisation.criticalPercent`             | critical |
 * | `DbPoolAcquireWaitSlow`       | p95 acquire wait over the window > `acquireWaitSeconds`     | warning  |
 * | `DbPoolConnectionLeaked`      | any connection detected as leaked and not returned          | warning  |
 * | `DbPoolConnectionHeldTooLong` | the oldest lease is out longer than the pool's leak threshold | warning |
 * | `DbPoolAcquireTimeouts`       | an acquire timed out (pool exhausted) within the window     | critical |
 *
 * @module
 */
import { ALERT_THRESHOLDS } from "../pool.ts";
import { LEAK_SEARCH_TAGS } from "../pool.ts";
import { jaegerSearchUrl } from "../telemetry.ts";

/** The committed rules' `for:` and window: production values (the end-to-end test generates faster ones). */
export const ALERT_RULE_DEFAULTS = Object.freeze({ for: "2m", window: "5m" });

/** Options for {@linkcode poolAlertRules}. */
export interface AlertRuleOptions {
  /**
   * How long a condition must hold before its alert fires (Prometheus `for:`):
   * a blip does not page anyone. Tests generate the rules with "0s".
   * @default "2m"
   */
  for?: string;
  /** The range of `rate()` and `increase()`; at least two scrape intervals. @default "5m" */
  window?: string;
  /** The Jaeger UI the descriptions link to. @default "http://localhost:16686" (docker compose's Jaeger, seen from the host) */
  jaegerUi?: string;
}

/** One alerting rule, in the shape of a Prometheus rule file entry. */
export interface AlertRule {
  alert: string;
  expr: string;
  for: string;
  labels: { severity: "warning" | "critical" };
  annotations: { summary: string; description: string };
}

/** The label names the rules rely on: OTel attribute names as the Prometheus exporter writes them. */
export const ALERT_LABELS = Object.freeze({
  pool: "db_client_connection_pool_name",
  instance: "service_instance_id",
  service: "service_name",
});

const label = (name: string) => `{{ $labels.${name} }}`;
/** How every summary names what it is about: `Pool "demo" of leak-lab instance 12e8ccca-…`. */
const WHERE = `Pool "${label(ALERT_LABELS.pool)}" of ${label(ALERT_LABELS.service)} instance ${
  label(ALERT_LABELS.instance)
}`;

/**
 * The Jaeger search for the leaking requests of the instance an alert is
 * about: the leak search (`LEAK_SEARCH_TAGS`) narrowed to the
 * alert's `service.instance.id`, with the service and instance filled in by
 * Prometheus' templating when the alert fires.
 */
export function leakSearchTemplate(jaegerUi = "http://localhost:16686"): string {
  const [service, instance] = ["__LEAKLAB_SERVICE__", "__LEAKLAB_INSTANCE__"];
  return jaegerSearchUrl(service, { ...LEAK_SEARCH_TAGS, "service.instance.id": instance }, jaegerUi)
    .replace(service, `{{ $labels.${ALERT_LABELS.service} | urlquery }}`)
    .replace(instance, `{{ $labels.${ALERT_LABELS.instance} | urlquery }}`);
}

/**
 * The pool alerts, with the thresholds of `ALERT_THRESHOLDS`.
 *
 * @example
 * ```ts
 * import { poolAlertRules } from "./alert_rules.ts";
 * const [warning] = poolAlertRules();
 * console.log(warning.alert, warning.for); // "DbPoolUtilisationWarning" "2m"
 * ```
 */
export function poolAlertRules(options: AlertRuleOptions = {}): AlertRule[] {
  const forDuration = options.for ?? ALERT_RULE_DEFAULTS.for;
  const window = options.window ?? ALERT_RULE_DEFAULTS.window;
  const traces = leakSearchTemplate(options.jaegerUi);
  const { warningPercent, criticalPercent } = ALERT_THRESHOLDS.utilisation;
  const waitSeconds = ALERT_THRESHOLDS.acquireWaitSeconds;
  const state = "db_client_connection_state";
  const utilisation = `100 * db_client_connection_count{${state}="used"}\n` +
    `  / ignoring (${state}) db_client_connection_max`;
  const ifLeaking = `If leaklab_db_client_connection_leaked is above 0, code is not returning connections: ` +
    `find the leaking requests of this instance in Jaeger (${traces}), release on every path ` +
    `(finally, or await using), and reclaim with POST /api/reset or a restart.`;
  const rule = (
    alert: string,
    severity: "warning" | "critical",
    expr: string,
    summary: string,
    description: string,
  ): AlertRule => ({ alert, expr, for: forDuration, labels: { severity }, annotations: { summary, description } });
  return [
    rule(
      "DbPoolUtilisationWarning",
      "warning",
      `${utilisation}\n  >= ${warningPercent}`,
      `${WHERE} is {{ $value | humanize }} % in use (warning at ${warningPercent} %)`,
      `Little headroom is left: at 100 % requests wait and then fail. ${ifLeaking} ` +
        `Otherwise load or slow queries hold the connections: check db_client_connection_use_time, ` +
        `speed up the queries or raise max.`,
    ),
    rule(
      "DbPoolUtilisationCritical",
      "critical",
      `${utilisation}\n  >= ${criticalPercent}`,
      `${WHERE} is {{ $value | humanize }} % in use (critical at ${criticalPercent} %)`,
      `New requests are about to wait for a connection and then fail after the acquire timeout: act now. ` +
        `${ifLeaking} Otherwise shed load, speed up the slow queries (db_client_connection_use_time) or raise max.`,
    ),
    rule(
      "DbPoolAcquireWaitSlow",
      "warning",
      `histogram_quantile(0.95, rate(db_client_connection_wait_time_bucket[${window}]))\n  > ${waitSeconds}`,
      `${WHERE}: requests wait {{ $value | humanizeDuration }} for a connection at the 95th percentile (limit ${waitSeconds} s)`,
      `Over ${window}, more than 1 request in 20 waited over ${waitSeconds} s for a connection: the pool is ` +
        `nearly empty. ${ifLeaking} Otherwise connections are held too long (db_client_connection_use_time) ` +
        `or max is too small.`,
    ),
    rule(
      "DbPoolConnectionLeaked",
      "warning",
      `leaklab_db_client_connection_leaked > 0`,
      `${WHERE} leaked {{ $value }} connection(s)`,
      `Connections were never returned to the pool: each is lost capacity until a reset or restart, and enough ` +
        `of them exhaust the pool. Find the leaking requests of this instance in Jaeger (${traces}): ` +
        `their connection_leaked event names the line that acquired the connection. Release it on every path ` +
        `(finally, or await using), then reclaim with POST /api/reset or a restart.`,
    ),
    rule(
      "DbPoolConnectionHeldTooLong",
      "warning",
      `leaklab_db_client_connection_oldest_lease_age > leaklab_db_client_connection_leak_threshold\n` +
        `  and leaklab_db_client_connection_leak_threshold > 0`,
      `${WHERE} has had a connection out for {{ $value | humanizeDuration }}, past its leak threshold`,
      `A connection is checked out longer than the pool's leakThresholdMs: a leak, or slow work done while ` +
        `holding it. The pool logged "Connection leak detected" with the acquiring stack; the traces are in ` +
        `Jaeger (${traces}). Fix the code that holds it, or raise the threshold if the work is legitimately slow.`,
    ),
    rule(
      "DbPoolAcquireTimeouts",
      "critical",
      `increase(db_client_connection_timeouts_total[${window}]) > 0`,
      `${WHERE} is exhausted: {{ $value | humanize }} acquire(s) timed out in ${window}`,
      `Every connection stayed out for a whole acquire timeout, so requests failed (the service answers 503 ` +
        `with a PoolExhaustedError that names the oldest holders). ${ifLeaking}`,
    ),
  ];
}

/**
 * Milliseconds in a Prometheus duration such as "90s", "5m" or "1h30m".
 * @throws {RangeError} when `duration` is not one
 */
export function durationMs(duration: string): number {
  const units: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  const parts = [...duration.matchAll(/(\d+)(ms|s|m|h|d)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join("") !== duration) {
    throw new RangeError(`"${duration}" is not a Prometheus duration: write it as 0s, 30s, 2m, 1h or 1h30m.`);
  }
  return parts.reduce((ms, [, n, unit]) => ms + Number(n) * units[unit], 0);
}

/**
 * The demo page's alert panel logic (lib/service/page/alerts.js), on the same
 * cases as prometheus/alerts_test.yml: the page must say "would fire" exactly
 * when Prometheus would.
 */
import { assertEquals } from "@std/assert";
import { ALERT_THRESHOLDS } from "../lib/pool.ts";
import { poolAlertRules } from "../lib/service/alert_rules.ts";
import { evaluateAlerts, parseScrape, poolReading } from "../lib/service/page/alerts.js";

const RULES = poolAlertRules().map(({ alert, labels }) => ({ alert, severity: labels.severity }));
const WINDOW_MS = 300_000;

type Reading = ReturnType<typeof poolReading>;
const idle: Reading = {
  used: 0,
  max: 5,
  leaked: 0,
  oldestLeaseAge: 0,
  leakThreshold: 30,
  timeouts: 0,
  waits: 0,
  waitsWithinLimit: 0,
};

/** The alerts that would fire for `now`, `before` being a scrape 60 s earlier. */
function firingFor(now: Partial<Reading>, before: Partial<Reading> = {}): string[] {
  const history = [{ at: 0, reading: { ...idle, ...before } }, { at: 60_000, reading: { ...idle, ...now } }];
  return evaluateAlerts(RULES, ALERT_THRESHOLDS, history, WINDOW_MS).filter((r) => r.firing).map((r) => r.alert);
}

Deno.test("parseScrape() reads samples, labels and escapes from a Prometheus text scrape", () => {
  const samples = parseScrape([
    "# HELP db_client_connection_max The maximum number of open connections allowed.",
    "# TYPE db_client_connection_max gauge",
    'db_client_connection_max{db_client_connection_pool_name="demo \\"one\\"",service_instance_id="a"} 5',
    'db_client_connection_wait_time_bucket{db_client_connection_pool_name="demo",le="+Inf"} 12',
    "target_info 1",
    "",
  ].join("\n"));
  assertEquals(samples, [
    {
      name: "db_client_connection_max",
      labels: { db_client_connection_pool_name: 'demo "one"', service_instance_id: "a" },
      value: 5,
    },
    {
      name: "db_client_connection_wait_time_bucket",
      labels: { db_client_connection_pool_name: "demo", le: "+Inf" },
      value: 12,
    },
    { name: "target_info", labels: {}, value: 1 },
  ]);
});

Deno.test("the page's utilisation alerts fire at 70 % and 85 %, not at 69 % and 84 %", () => {
  assertEquals(firingFor({ used: 69, max: 100 }), []);
  assertEquals(firingFor({ used: 70, max: 100 }), ["DbPoolUtilisationWarning"]);
  assertEquals(firingFor({ used: 84, max: 100 }), ["DbPoolUtilisationWarning"]);
  assertEquals(firingFor({ used: 85, max: 100 }), ["DbPoolUtilisationWarning", "DbPoolUtilisationCritical"]);
  assertEquals(firingFor({ used: 3 }), []);
  assertEquals(firingFor({ used: 4 }), ["DbPoolUtilisationWarning"]);
  assertEquals(firingFor({ used: 5, leaked: 5 }), [
    "DbPoolUtilisationWarning",
    "DbPoolUtilisationCritical",
    "DbPoolConnectionLeaked",
  ]);
});

Deno.test("the page's wait alert fires when more than 1 acquire in 20 waited over the limit in the window", () => {
  assertEquals(firingFor({ waits: 100, waitsWithinLimit: 95 }), [], "exactly 5 %: p95 is the limit");
  assertEquals(firingFor({ waits: 100, waitsWithinLimit: 94 }), ["DbPoolAcquireWaitSlow"]);
  assertEquals(
    firingFor({ waits: 200, waitsWithinLimit: 194 }, { waits: 100, waitsWithinLimit: 94 }),
    [],
    "the slow ones were before the window's first scrape",
  );
});

Deno.test("the page's leak, held-too-long and timeout alerts", () => {
  assertEquals(firingFor({ used: 1, leaked: 1 }), ["DbPoolConnectionLeaked"]);
  assertEquals(firingFor({ used: 1, oldestLeaseAge: 31 }), ["DbPoolConnectionHeldTooLong"]);
  assertEquals(firingFor({ used: 1, oldestLeaseAge: 30 }), [], "at the threshold is not past it");
  assertEquals(firingFor({ used: 1, oldestLeaseAge: 3_600, leakThreshold: 0 }), [], "threshold off");
  assertEquals(firingFor({ timeouts: 2 }, { timeouts: 1 }), ["DbPoolAcquireTimeouts"]);
  assertEquals(firingFor({ timeouts: 1 }, { timeouts: 1 }), [], "no new timeout in the window");
});

Deno.test("evaluateAlerts() answers every rule, in order, with why", () => {
  const history = [{ at: 0, reading: { ...idle, used: 4 } }];
  const results = evaluateAlerts(
    [...RULES, { alert: "SomethingNew", severity: "warning" }],
    ALERT_THRESHOLDS,
    history,
    WINDOW_MS,
  );
  assertEquals(results.map((r) => r.alert), [...RULES.map((r) => r.alert), "SomethingNew"]);
  assertEquals(results[0], {
    alert: "DbPoolUtilisationWarning",
    severity: "warning",
    firing: true,
    detail: "4 of 5 connections in use (80 %); warning at 70 %",
  });
  assertEquals(results.at(-1)!.detail, "not evaluated on this page");
});

Deno.test("the timeouts alert, still firing after a reset, says why and when it clears", () => {
  const at = (minutes: number, timeouts: number, used: number) => ({
    at: minutes * 60_000,
    reading: { ...idle, max: 5, used, timeouts },
  });
  // Timeouts at minute 1 and 2 while the pool was exhausted; a reset at 3 (nothing in use), read at minute 4.
  const history = [at(0, 0, 5), at(1, 1, 5), at(2, 3, 5), at(3, 3, 0), at(4, 3, 0)];
  const state = evaluateAlerts(RULES, ALERT_THRESHOLDS, history, WINDOW_MS)
    .find((s) => s.alert === "DbPoolAcquireTimeouts")!;
  assertEquals(state.firing, true);
  assertEquals(
    state.detail,
    "3 acquire(s) timed out since this page started reading /metrics 4 min ago; none is timing out now, but this " +
      "alert counts the last 5 min (a rate over a window), so it keeps firing after a reset: it clears in about " +
      "3 min if no acquire times out meanwhile",
  );
  // While the pool is still out of connections, the timeouts are no history: no such note.
  const exhausted = evaluateAlerts(RULES, ALERT_THRESHOLDS, [at(0, 0, 5), at(1, 2, 5)], WINDOW_MS)
    .find((s) => s.alert === "DbPoolAcquireTimeouts")!;
  assertEquals(exhausted.detail, "2 acquire(s) timed out since this page started reading /metrics 1 min ago");
});

import { assert, assertEquals, assertMatch, assertStringIncludes, assertThrows } from "@std/assert";
import { parse } from "yaml";
import { ALERT_THRESHOLDS } from "../lib/pool.ts";
import { LEAK_SEARCH_TAGS } from "../lib/pool.ts";
import { jaegerSearchUrl } from "../lib/telemetry.ts";
import { ALERT_RULE_DEFAULTS, durationMs, leakSearchTemplate, poolAlertRules } from "../lib/service/alert_rules.ts";
import { ALERTS_FILE, renderAlertRules } from "../tasks/alert_rules.ts";
import { hasCommand, PROMETHEUS_INSTALL, promtool } from "./support/prometheus.ts";
import { requirement } from "./support/requirement.ts";

const RULES_TEST = new URL("../prometheus/alerts_test.yml", import.meta.url);
const havePromtool = requirement("promtool", hasCommand("promtool"), PROMETHEUS_INSTALL);

interface RuleFile {
  groups: { name: string; rules: { alert: string; expr: string; for: string; labels: Record<string, string> }[] }[];
}
interface RuleTests {
  rule_files: string[];
  tests: {
    name: string;
    input_series: { series: string; values: string }[];
    alert_rule_test: { alertname: string; eval_time: string; exp_alerts: unknown[] }[];
  }[];
}

Deno.test("prometheus/alerts.yml is exactly what `deno task alerts` writes (run it after changing the rules)", async () => {
  const committed = await Deno.readTextFile(ALERTS_FILE);
  assertEquals(committed, await renderAlertRules(), "prometheus/alerts.yml is stale: run `deno task alerts`");
  const file = parse(committed) as RuleFile;
  const rules = file.groups.flatMap((g) => g.rules);
  assertEquals(rules.map((r) => r.alert), poolAlertRules().map((r) => r.alert));
  assertEquals(new Set(rules.map((r) => r.for)), new Set([ALERT_RULE_DEFAULTS.for]), "production rules wait 2m");
});

Deno.test("the alert rules take their thresholds from ALERT_THRESHOLDS and nothing else", () => {
  const byName = Object.fromEntries(poolAlertRules().map((r) => [r.alert, r]));
  const { warningPercent, criticalPercent } = ALERT_THRESHOLDS.utilisation;
  assertMatch(byName.DbPoolUtilisationWarning.expr, new RegExp(`>= ${warningPercent}$`));
  assertMatch(byName.DbPoolUtilisationCritical.expr, new RegExp(`>= ${criticalPercent}$`));
  assertMatch(byName.DbPoolAcquireWaitSlow.expr, new RegExp(`> ${ALERT_THRESHOLDS.acquireWaitSeconds}$`));
  assertStringIncludes(byName.DbPoolUtilisationWarning.annotations.summary, `warning at ${warningPercent} %`);
  assertStringIncludes(byName.DbPoolUtilisationCritical.annotations.summary, `critical at ${criticalPercent} %`);
  assertEquals(new Set(poolAlertRules().map((r) => r.labels.severity)), new Set(["warning", "critical"]));
});

Deno.test("poolAlertRules() takes its for: and window from options, for fast rules in tests", () => {
  const fast = poolAlertRules({ for: "0s", window: "15s", jaegerUi: "http://127.0.0.1:16686" });
  assertEquals(new Set(fast.map((r) => r.for)), new Set(["0s"]));
  assertStringIncludes(fast.find((r) => r.alert === "DbPoolAcquireTimeouts")!.expr, "[15s]");
  assertStringIncludes(fast[0].annotations.description, "http://127.0.0.1:16686/search?");
  assertEquals([durationMs("5m"), durationMs("1h30m"), durationMs("0s"), durationMs("250ms")], [
    300_000,
    5_400_000,
    0,
    250,
  ]);
  assertThrows(() => durationMs("5 minutes"), RangeError, `"5 minutes" is not a Prometheus duration`);
});

Deno.test("every alert's description links to the leak search (LEAK_SEARCH_TAGS) of the alerting instance", () => {
  const template = leakSearchTemplate("http://localhost:16686");
  // What Prometheus renders for service "leak-lab", instance "replica-b" (urlquery leaves these as they are).
  const rendered = template.replace("{{ $labels.service_name | urlquery }}", "leak-lab")
    .replace("{{ $labels.service_instance_id | urlquery }}", "replica-b");
  const expected = jaegerSearchUrl("leak-lab", { ...LEAK_SEARCH_TAGS, "service.instance.id": "replica-b" });
  assertEquals(rendered, expected);
  const tags = JSON.parse(new URL(rendered).searchParams.get("tags")!);
  for (const [key, value] of Object.entries(LEAK_SEARCH_TAGS)) assertEquals(tags[key], value);
  for (const rule of poolAlertRules()) {
    assertStringIncludes(rule.annotations.description, template, `${rule.alert} links to the leak search`);
    assertStringIncludes(
      rule.annotations.summary,
      "{{ $labels.service_instance_id }}",
      `${rule.alert} names the instance`,
    );
    assertStringIncludes(rule.annotations.summary, "{{ $labels.db_client_connection_pool_name }}");
  }
});

Deno.test({
  name: "promtool check rules accepts prometheus/alerts.yml",
  ...havePromtool,
  async fn() {
    const { code, output } = await promtool(["check", "rules", "--lint=all", "--lint-fatal", ALERTS_FILE.pathname]);
    assertEquals(code, 0, output);
    assertStringIncludes(output, `SUCCESS: ${poolAlertRules().length} rules found`);
  },
});

Deno.test({
  name: "promtool test rules passes prometheus/alerts_test.yml: every alert, and the 69/70 % and 84/85 % boundaries",
  ...havePromtool,
  async fn() {
    const { code, output } = await promtool(["test", "rules", RULES_TEST.pathname]);
    assertEquals(code, 0, output);
    assertStringIncludes(output, "SUCCESS");

    const tests = parse(await Deno.readTextFile(RULES_TEST)) as RuleTests;
    assertEquals(tests.rule_files, ["alerts.yml"], "the tests run against the committed rules");
    const cases = tests.tests.flatMap((t) => t.alert_rule_test);
    for (const { alert } of poolAlertRules()) {
      const mine = cases.filter((c) => c.alertname === alert);
      assert(mine.some((c) => c.exp_alerts.length > 0), `${alert}: a case where it fires`);
      assert(mine.some((c) => c.exp_alerts.length === 0), `${alert}: a case where it does not`);
    }
    // The boundaries, one step under and at each threshold, on a pool of 100.
    const { warningPercent, criticalPercent } = ALERT_THRESHOLDS.utilisation;
    const boundary = tests.tests.find((t) => t.name.includes("boundaries"))!;
    const used = boundary.input_series.find((s) => s.series.includes('state="used"'))!.values.split(" ");
    const max = boundary.input_series.find((s) => s.series.startsWith("db_client_connection_max"))!.values;
    assertMatch(max, /^100x/);
    const levels = used.map((v) => Number(v.split("x")[0]));
    for (const percent of [warningPercent - 1, warningPercent, criticalPercent - 1, criticalPercent]) {
      assert(levels.includes(percent), `the boundary test holds ${percent} % for a while`);
    }
  },
});

Deno.test({
  name: "the promtool tests fail for rules that get a boundary wrong (> instead of >=)",
  ...havePromtool,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "leak-lab-rules-" });
    try {
      const wrong = (await Deno.readTextFile(ALERTS_FILE)).replaceAll(">= ", "> ");
      await Deno.writeTextFile(`${dir}/alerts.yml`, wrong);
      await Deno.copyFile(RULES_TEST, `${dir}/alerts_test.yml`);
      const { code, output } = await promtool(["test", "rules", `${dir}/alerts_test.yml`]);
      assertEquals(code, 1, output);
      assertMatch(output, /alertname: DbPoolUtilisationWarning, time: 13m/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

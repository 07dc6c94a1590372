/**
 * The alert rules against a real Prometheus (Debian's `prometheus`) scraping
 * real service processes on a real Postgres: the alerts fire at the levels
 * the workshop teaches, name the instance and pool, link to the leak search,
 * and resolve after `POST /api/reset`.
 *
 * The rules are the generator's, with `for: 0s` and a 5 s window so the test
 * takes seconds; `prometheus/alerts_test.yml` (promtool) covers the committed
 * `for: 2m` rules.
 */
import { assert, assertEquals, assertMatch, assertNotEquals, assertStringIncludes } from "@std/assert";
import { LEAK_SEARCH_TAGS } from "../lib/pool.ts";
import { eventually } from "../lib/util/eventually.ts";
import { checkpointDatabaseUrl, uniquePoolName } from "../lib/workshop/checkpoint_database.ts";
import { renderAlertRules } from "../tasks/alert_rules.ts";
import {
  hasCommand,
  PROMETHEUS_INSTALL,
  type PrometheusAlert,
  type RunningPrometheus,
  startPrometheus,
} from "./support/prometheus.ts";
import { requirement } from "./support/requirement.ts";
import { type ServiceProcess, startServiceProcess } from "./support/service_process.ts";

const ROOT = new URL("../", import.meta.url);
const needsPrometheus = requirement("prometheus", hasCommand("prometheus"), PROMETHEUS_INSTALL);
const WAIT = { timeoutMs: 20_000, intervalMs: 250 };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A demo service process on a free port, every query failing, so each POST /api/bad leaks a connection. */
async function startReplica(poolName: string): Promise<ServiceProcess & { port: number; instanceId: string }> {
  const service = await startServiceProcess(ROOT, {
    DATABASE_URL: checkpointDatabaseUrl(),
    HOST: "127.0.0.1",
    PORT: "0",
    POOL_NAME: poolName,
    POOL_MAX: "5",
    FAIL_EVERY: "1",
    ACQUIRE_TIMEOUT_MS: "300",
    LEAK_THRESHOLD_MS: "2000",
    OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:1", // a closed port: no Jaeger, and no probe of localhost:4318
    OTEL_SERVICE_NAME: "leak-lab",
  });
  if (!service.address) {
    const { stderr } = await service.stop();
    throw new Error(`the service did not start:\n${service.stdout}\n${stderr}`);
  }
  const instanceId = /service\.instance\.id (\S+)\)/.exec(service.stdout)?.[1] ?? "";
  return Object.assign(service, { port: Number(new URL(service.address).port), instanceId });
}

async function post(service: ServiceProcess, path: string): Promise<number> {
  const response = await fetch(new URL(path, service.address), {
    method: "POST",
    headers: { "content-type": "application/json" },
  });
  await response.body?.cancel();
  return response.status;
}

const FAST_RULES = () => renderAlertRules({ for: "0s", window: "5s", jaegerUi: "http://localhost:16686" });

function firing(alerts: PrometheusAlert[], poolName: string): PrometheusAlert[] {
  return alerts.filter((a) => a.state === "firing" && a.labels.db_client_connection_pool_name === poolName);
}
const names = (alerts: PrometheusAlert[]) => alerts.map((a) => a.labels.alertname).sort();

/** The Jaeger search an alert's description links to, as [service, tags]. */
function leakSearchOf(alert: PrometheusAlert): [string | null, Record<string, string>] {
  const link = /http:\/\/localhost:16686\/search\?\S+?(?=\)|$)/.exec(alert.annotations.description)?.[0];
  assert(link, `a leak-search link in: ${alert.annotations.description}`);
  const url = new URL(link);
  return [url.searchParams.get("service"), JSON.parse(url.searchParams.get("tags")!)];
}

Deno.test({
  name:
    "Prometheus fires the warning at 4 of 5 connections, critical at 5 of 5 and the leak alert; reset resolves them",
  ...needsPrometheus,
  async fn() {
    const poolName = uniquePoolName("e2e");
    const service = await startReplica(poolName);
    let prometheus: RunningPrometheus | undefined;
    try {
      assertMatch(service.instanceId, UUID, "an instance id, random per process");
      prometheus = await startPrometheus({ rules: await FAST_RULES(), targets: [`127.0.0.1:${service.port}`] });
      const target = `127.0.0.1:${service.port}`;
      assertEquals((await eventually(() => prometheus!.targets(), (t) => t[target] === "up", WAIT))[target], "up");
      const now = async () => firing(await prometheus!.alerts(), poolName);
      assertEquals(names(await now()), [], "a healthy pool raises nothing");

      for (let i = 0; i < 4; i++) assertEquals(await post(service, "api/bad"), 500);
      let alerts = await eventually(
        now,
        (a) => ["DbPoolConnectionLeaked", "DbPoolUtilisationWarning"].every((n) => names(a).includes(n)),
        WAIT,
      );
      assertEquals(names(alerts).filter((n) => n.startsWith("DbPoolUtilisation")), ["DbPoolUtilisationWarning"]);
      const warning = alerts.find((a) => a.labels.alertname === "DbPoolUtilisationWarning")!;
      assertEquals(warning.labels.severity, "warning");
      assertEquals(warning.labels.service_instance_id, service.instanceId);
      assertEquals(Number(warning.value), 80);
      assertStringIncludes(
        warning.annotations.summary,
        `Pool "${poolName}" of leak-lab instance ${service.instanceId} is 80 % in use`,
      );
      await new Promise((resolve) => setTimeout(resolve, 2_500)); // a few more scrapes and evaluations
      assert(!names(await now()).includes("DbPoolUtilisationCritical"), "4 of 5 (80 %) is not critical");

      assertEquals(await post(service, "api/bad"), 500, "the 5th connection leaks");
      alerts = await eventually(now, (a) => names(a).includes("DbPoolUtilisationCritical"), WAIT);
      const critical = alerts.find((a) => a.labels.alertname === "DbPoolUtilisationCritical")!;
      assertEquals([critical.labels.severity, Number(critical.value)], ["critical", 100]);
      assert(names(alerts).includes("DbPoolUtilisationWarning"), "the warning keeps firing at 100 %");
      const leaked = alerts.find((a) => a.labels.alertname === "DbPoolConnectionLeaked")!;
      assertEquals(Number(leaked.value), 5);
      const [service_, tags] = leakSearchOf(leaked);
      assertEquals(service_, "leak-lab");
      assertEquals(tags, { ...LEAK_SEARCH_TAGS, "service.instance.id": service.instanceId });

      assertEquals(await post(service, "api/bad"), 503, "the pool is exhausted: the next request times out");
      alerts = await eventually(now, (a) => names(a).includes("DbPoolAcquireTimeouts"), WAIT);
      // LEAK_THRESHOLD_MS=2000: by now the oldest leaked connection has been out longer.
      alerts = await eventually(now, (a) => names(a).includes("DbPoolConnectionHeldTooLong"), WAIT);
      assertEquals(names(alerts), [
        "DbPoolAcquireTimeouts",
        "DbPoolConnectionHeldTooLong",
        "DbPoolConnectionLeaked",
        "DbPoolUtilisationCritical",
        "DbPoolUtilisationWarning",
      ]);

      assertEquals(await post(service, "api/reset"), 200);
      const after = await eventually(
        async () => (await prometheus!.alerts()).filter((a) => a.labels.db_client_connection_pool_name === poolName),
        (a) => a.length === 0,
        WAIT,
      );
      assertEquals(after.map((a) => `${a.labels.alertname} ${a.state}`), [], "every alert resolved after the reset");
    } finally {
      const log = await prometheus?.stop();
      const stopped = await service.stop();
      assertEquals(stopped.code, 0, stopped.stderr);
      assert(!/level=error/.test(log ?? ""), `Prometheus logged errors:\n${log}`);
    }
  },
});

Deno.test({
  name: "a fleet of three replicas on one Postgres: only the leaking one alerts, by its service.instance.id and pool",
  ...needsPrometheus,
  async fn() {
    const poolName = uniquePoolName("fleet");
    const replicas: Awaited<ReturnType<typeof startReplica>>[] = [];
    let prometheus: RunningPrometheus | undefined;
    try {
      for (let i = 0; i < 3; i++) replicas.push(await startReplica(poolName)); // one pool name: replicas of one service
      const ids = replicas.map((r) => r.instanceId);
      assertEquals(new Set(ids).size, 3, `three distinct instance ids: ${ids}`);
      prometheus = await startPrometheus({
        rules: await FAST_RULES(),
        targets: replicas.map((r) => `127.0.0.1:${r.port}`),
      });
      const up = await eventually(
        () => prometheus!.targets(),
        (t) => Object.values(t).filter((h) => h === "up").length === 3,
        WAIT,
      );
      assertEquals(Object.values(up), ["up", "up", "up"]);

      const [healthyA, leaky, healthyC] = replicas;
      for (let i = 0; i < 5; i++) {
        assertEquals(await post(healthyA, "api/good"), 500, "a query fails, the connection goes back");
        assertEquals(await post(leaky, "api/bad"), 500, "a query fails, the connection leaks");
        assertEquals(await post(healthyC, "api/good"), 500);
      }
      const alerts = await eventually(
        async () => firing(await prometheus!.alerts(), poolName),
        (a) => ["DbPoolConnectionLeaked", "DbPoolUtilisationCritical"].every((n) => names(a).includes(n)),
        WAIT,
      );
      assertEquals(new Set(alerts.map((a) => a.labels.service_instance_id)), new Set([leaky.instanceId]));
      assertNotEquals(leaky.instanceId, healthyA.instanceId);
      const leak = alerts.find((a) => a.labels.alertname === "DbPoolConnectionLeaked")!;
      assertEquals(leak.labels.db_client_connection_pool_name, poolName);
      assertEquals(leak.labels.service_name, "leak-lab");
      assertEquals(leak.labels.instance, `127.0.0.1:${leaky.port}`, "Prometheus' own target label agrees");
      assertStringIncludes(
        leak.annotations.summary,
        `Pool "${poolName}" of leak-lab instance ${leaky.instanceId} leaked 5`,
      );
      const [service, tags] = leakSearchOf(leak);
      assertEquals(service, "leak-lab");
      assertEquals(tags, { ...LEAK_SEARCH_TAGS, "service.instance.id": leaky.instanceId });
    } finally {
      await prometheus?.stop();
      for (const replica of replicas) {
        const stopped = await replica.stop();
        assertEquals(stopped.code, 0, stopped.stderr);
      }
    }
  },
});

import { assert, assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { DCLinter } from "dclint";
import { parse } from "yaml";
import { readConfig } from "../lib/service/config.ts";
import { startServiceProcess } from "./support/service_process.ts";
import { checkpointDatabaseUrl } from "../lib/workshop/checkpoint_database.ts";
import { METRICS_PATH } from "../lib/service/metrics_route.ts";
import { poolAlertRules } from "../lib/service/alert_rules.ts";
import { hasCommand, PROMETHEUS_INSTALL, promtool } from "./support/prometheus.ts";
import { requirement } from "./support/requirement.ts";

const ROOT = new URL("../", import.meta.url);
const COMPOSE = new URL("docker-compose.yml", ROOT);
const DOCKERFILE = new URL("Dockerfile", ROOT);

interface Service {
  image?: string;
  build?: string;
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
}
const compose = parse(Deno.readTextFileSync(COMPOSE)) as { services: Record<string, Service> };
const { demo, jaeger, postgres, prometheus } = compose.services;

/** The container ports a service publishes. */
const published = (service: Service) => (service.ports ?? []).map((p) => Number(p.split(":").at(-1)));

/** Sources of the Dockerfile's COPY instructions. */
function copiedPaths(): string[] {
  return Deno.readTextFileSync(DOCKERFILE).split("\n")
    .filter((line) => line.startsWith("COPY "))
    .flatMap((line) => line.split(/\s+/).slice(1).filter((word) => !word.startsWith("--")).slice(0, -1));
}

Deno.test("docker-compose.yml passes dclint's compose schema and rules with no error or warning", () => {
  // Double quotes in ports, as `deno fmt` writes them; every other rule at its default.
  const linter = new DCLinter({
    rules: { "require-quotes-in-ports": [1, { quoteType: "double" }] },
    quiet: false,
    debug: false,
    exclude: [],
  });
  const [result] = linter.lintFiles([COMPOSE.pathname], false);
  const problems = result.messages.map((m) => `${m.line}:${m.column} ${m.rule}: ${m.message}`);
  assertEquals(problems, []);
  assertEquals([result.errorCount, result.warningCount], [0, 0]);
});

Deno.test("docker-compose.yml runs pinned Postgres 16 with a healthcheck and the demo schema", () => {
  assertEquals(postgres.image, "postgres:16-alpine");
  assertStringIncludes(postgres.healthcheck!.test.join(" "), "pg_isready");
  const schema = postgres.volumes!.find((v) => v.includes("/docker-entrypoint-initdb.d/"));
  assertMatch(schema!, /^\.\/lib\/database\/schema\.sql:\/docker-entrypoint-initdb\.d\/\w+\.sql:ro$/);
  Deno.statSync(new URL("lib/database/schema.sql", ROOT));
  assertEquals(published(postgres), [5432]);
});

Deno.test("docker-compose.yml runs Jaeger v2 all-in-one at an exact tag with UI and OTLP ports", () => {
  const [, minor] = /^jaegertracing\/jaeger:2\.(\d+)\.\d+$/.exec(jaeger.image!) ?? [];
  assert(Number(minor) >= 17, `Jaeger ${jaeger.image} is pinned at 2.17 or later, where error=true searches work`);
  assertEquals(published(jaeger).toSorted(), [16686, 4317, 4318].toSorted());
});

Deno.test("docker-compose.yml wires the demo to Postgres and Jaeger, and its settings parse", () => {
  const env = demo.environment!;
  const database = new URL(env.DATABASE_URL);
  const pg = postgres.environment!;
  assertEquals(
    [database.hostname, database.port, database.username, database.password, database.pathname],
    ["postgres", "5432", pg.POSTGRES_USER, pg.POSTGRES_PASSWORD, `/${pg.POSTGRES_DB}`],
  );
  assertEquals(env.OTEL_EXPORTER_OTLP_ENDPOINT, "http://jaeger:4318");
  assertEquals(env.HOST, "0.0.0.0");
  assertEquals(demo.depends_on!.postgres.condition, "service_healthy");
  const config = readConfig(new Map(Object.entries(env)));
  assertEquals(published(demo), [config.port]);
  assertEquals(demo.build, ".");
  assertMatch(Deno.readTextFileSync(DOCKERFILE), /^FROM denoland\/deno:\d+\.\d+\.\d+$/m);
});

Deno.test("the Dockerfile copies every local module main.ts loads", async () => {
  const copied = copiedPaths();
  assertEquals(copied.toSorted(), ["deno.json", "deno.lock", "lib", "main.ts"]);
  const info = await new Deno.Command(Deno.execPath(), { args: ["info", "--json", "main.ts"], cwd: ROOT }).output();
  assert(info.success, new TextDecoder().decode(info.stderr));
  const modules: { specifier: string }[] = JSON.parse(new TextDecoder().decode(info.stdout)).modules;
  const local = modules.map((m) => m.specifier).filter((s) => s.startsWith(ROOT.href)).map((s) =>
    s.slice(ROOT.href.length)
  );
  assert(local.length > 20, `main.ts loads ${local.length} local modules`);
  const missing = local.filter((path) => !copied.some((c) => path === c || path.startsWith(`${c}/`)));
  assertEquals(missing, []);
});

Deno.test("the image's files run the service with the compose settings (Postgres via DATABASE_URL)", async () => {
  // What `docker build` does, minus Docker: copy what the Dockerfile copies, `deno install --frozen`, run main.ts.
  const image = await Deno.makeTempDir({ prefix: "leak-lab-image-" });
  try {
    for (const path of copiedPaths()) {
      await new Deno.Command("cp", { args: ["-r", new URL(path, ROOT).pathname, `${image}/`] }).output();
    }
    const install = await new Deno.Command(Deno.execPath(), { args: ["install", "--frozen"], cwd: image }).output();
    assert(install.success, new TextDecoder().decode(install.stderr));

    // The compose environment, pointed at this machine: the test's Postgres, loopback only, no Jaeger.
    const env = {
      ...demo.environment!,
      DATABASE_URL: checkpointDatabaseUrl(),
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:1",
      HOST: "127.0.0.1",
      PORT: "0",
    };
    const service = await startServiceProcess(image, env);
    let stopped;
    try {
      assert(service.address, `no banner: ${service.stdout}`);
      assertStringIncludes(service.stdout, "(DATABASE_URL)");
      const good = await fetch(new URL("api/good", service.address), {
        method: "POST",
        headers: { "content-type": "application/json" },
      });
      assertEquals((await good.json()).ok, true);
      const plotly = await fetch(new URL("vendor/plotly.min.js", service.address));
      assertEquals([plotly.status, (await plotly.bytes()).length > 1_000_000], [200, true]);
    } finally {
      stopped = await service.stop();
    }
    assertEquals(stopped.code, 0, stopped.stderr);
    assertStringIncludes(stopped.stdout, "Stopped.");
  } finally {
    await Deno.remove(image, { recursive: true });
  }
});

Deno.test("docker-compose.yml runs Prometheus at an exact tag, scraping the demo's /metrics with prometheus/alerts.yml", async () => {
  assertMatch(prometheus.image!, /^prom\/prometheus:v\d+\.\d+\.\d+$/);
  assertEquals(prometheus.ports, ["127.0.0.1:9090:9090"], "the UI on the host's loopback only");
  assertEquals(prometheus.depends_on!.demo.condition, "service_started");
  const mounts = Object.fromEntries(prometheus.volumes!.map((v) => v.split(":")).map(([from, to]) => [to, from]));
  assertEquals(mounts, {
    "/etc/prometheus/prometheus.yml": "./prometheus/prometheus.yml",
    "/etc/prometheus/alerts.yml": "./prometheus/alerts.yml",
  });
  const config = parse(await Deno.readTextFile(new URL("prometheus/prometheus.yml", ROOT))) as {
    rule_files: string[];
    scrape_configs: { metrics_path?: string; static_configs: { targets: string[] }[] }[];
  };
  assertEquals(config.rule_files, ["alerts.yml"], "the mounted, generated rules");
  const [scrape] = config.scrape_configs;
  assertEquals(scrape.metrics_path ?? "/metrics", METRICS_PATH);
  const port = readConfig(new Map(Object.entries(demo.environment!))).port;
  assertEquals(scrape.static_configs.flatMap((c) => c.targets), [`demo:${port}`]);
});

Deno.test({
  name: "promtool check config accepts prometheus/prometheus.yml and the rules it loads",
  ...requirement("promtool", hasCommand("promtool"), PROMETHEUS_INSTALL),
  async fn() {
    const { code, output } = await promtool(["check", "config", new URL("prometheus/prometheus.yml", ROOT).pathname]);
    assertEquals(code, 0, output);
    assertStringIncludes(output, `SUCCESS: ${poolAlertRules().length} rules found`);
  },
});

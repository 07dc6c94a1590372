/**
 * No password, in any shape a user may type it, reaches an output: a corpus
 * of malformed and odd connection strings goes through every place that
 * shows one (redactUrl, openDatabase's errors, TracedPool's option errors,
 * connection errors and spans, main.ts's start-up message), and an OTLP
 * endpoint with credentials goes through the banner, /api/info, the page and
 * the export-failure logs. Every host is 127.0.0.1 on a closed port: no name
 * is ever resolved.
 */
import { assert, assertEquals, assertInstanceOf, assertStringIncludes } from "@std/assert";
import { openDatabase } from "../lib/database.ts";
import { TracedPool } from "../lib/pool.ts";
import { jaegerSearchUrl, setupTelemetry, traceUrl, viewTrace } from "../lib/telemetry.ts";
import { redactUrl } from "../lib/util/redact.ts";
import { checkpointDatabaseUrl, uniquePoolName } from "../lib/workshop/checkpoint_database.ts";
import { startServiceProcess } from "./support/service_process.ts";

const ROOT = new URL("..", import.meta.url);
const telemetry = await setupTelemetry({ otlpEndpoint: false, log: () => {} });

/** Each entry's secrets; every alphanumeric run of 3+ characters in them must stay hidden. */
const CORPUS: { url: string; secrets: string[] }[] = [
  { url: "postgres://app:Zq7/Wx9k@127.0.0.1:1/shop", secrets: ["Zq7/Wx9k"] },
  { url: "postgres://app:Zq7?Wx9k@127.0.0.1:1/shop", secrets: ["Zq7?Wx9k"] },
  { url: "postgres://app:Zq7#Wx9k@127.0.0.1:1/shop", secrets: ["Zq7#Wx9k"] },
  // Parses, with the password in the path: user "127.0.0.1", port 1.
  { url: "postgres://127.0.0.1:1/Zq7Wx9k@127.0.0.1:1/shop", secrets: ["Zq7Wx9k"] },
  { url: "postgres://app:Zq7@Wx9k@127.0.0.1:1/shop", secrets: ["Zq7@Wx9k"] },
  { url: "postgres://app:Zq7%2FWx9k@127.0.0.1:1/shop", secrets: ["Zq7/Wx9k", "Zq7%2FWx9k"] },
  { url: "postgres://app:Zq7Wx9k@127.0.0.1:1/shop?sslpassword=Yt5Vb3m", secrets: ["Zq7Wx9k", "Yt5Vb3m"] },
  { url: "postgres://app@127.0.0.1:1/shop?password=Zq7Wx9k&sslmode=disable", secrets: ["Zq7Wx9k"] },
  { url: "postgresql://:Zq7Wx9k@127.0.0.1:1/shop", secrets: ["Zq7Wx9k"] },
  { url: "postgres://app:Zq7 Wx9k@127.0.0.1:1/shop", secrets: ["Zq7 Wx9k"] },
  { url: "postgres://app:Zq7Wx9k@[::1:1/shop", secrets: ["Zq7Wx9k"] },
  { url: "postgres://app:Zq7Wx9k@", secrets: ["Zq7Wx9k"] },
  { url: "host=127.0.0.1 port=1 user=app password=Zq7Wx9k dbname=shop", secrets: ["Zq7Wx9k"] },
  { url: "host=127.0.0.1 password = 'Zq7 Wx9k' dbname=shop", secrets: ["Zq7 Wx9k"] },
  { url: "app:Zq7Wx9k@127.0.0.1:1/shop", secrets: ["Zq7Wx9k"] },
  { url: "DATABASE_URL=postgres://app:Zq7/Wx9k@127.0.0.1:1/shop", secrets: ["Zq7/Wx9k"] },
  { url: "mysql://app:Zq7/Wx9k@127.0.0.1/shop", secrets: ["Zq7/Wx9k"] },
  { url: " postgres://app:Zq7Wx9k@127.0.0.1:1/shop ", secrets: ["Zq7Wx9k"] },
];

function fragments(secrets: string[]): string[] {
  return [...new Set(secrets.flatMap((secret) => [secret, ...secret.split(/[^A-Za-z0-9]+/)]))]
    .filter((part) => part.length >= 3);
}

/** Fails naming the first secret fragment found in `text`. */
function assertHidden(text: string, secrets: string[], where: string): void {
  for (const part of fragments(secrets)) {
    assert(!text.includes(part), `${where} shows "${part}":\n${text}`);
  }
}

Deno.test("redactUrl() hides every secret of the corpus and keeps what helps: scheme, user, host, database", () => {
  for (const { url, secrets } of CORPUS) assertHidden(redactUrl(url), secrets, `redactUrl(${JSON.stringify(url)})`);
  assertEquals(redactUrl("postgres://app:Zq7/Wx9k@127.0.0.1:1/shop"), "postgres://app:***@127.0.0.1:1/shop");
  assertEquals(redactUrl("postgres://app@db/shop"), "postgres://app@db/shop", "a role name is not a secret");
  assertEquals(redactUrl("http://Zq7Wx9ktoken@127.0.0.1:4318"), "http://***@127.0.0.1:4318", "a bare token is");
  assertEquals(redactUrl("http://127.0.0.1:4318/v1/traces"), "http://127.0.0.1:4318/v1/traces");
  assertEquals(
    redactUrl("host=db user=app password='Zq7 Wx9k' dbname=shop"),
    "host=db user=app password=*** dbname=shop",
  );
});

Deno.test("openDatabase() and TracedPool errors, their causes and the pool's spans never show a corpus secret", async () => {
  for (const { url, secrets } of CORPUS) {
    const where = JSON.stringify(url);
    const opened = await openDatabase({ url, connectTimeoutMs: 1_000 }).then(
      async (db) => {
        await db.stop();
        return undefined;
      },
      (error) => error,
    );
    assertInstanceOf(opened, Error, `openDatabase(${where}) fails`);
    assertHidden(Deno.inspect(opened, { depth: 10 }), secrets, `openDatabase(${where})`);

    let pool: TracedPool | undefined;
    const warnings: string[] = [];
    try {
      pool = new TracedPool({
        connectionString: url,
        name: uniquePoolName("secrets"),
        acquireTimeoutMs: 1_000,
        log: (line) => warnings.push(line),
      });
    } catch (error) {
      assertInstanceOf(error, RangeError);
      assertHidden(Deno.inspect(error), secrets, `new TracedPool(${where})`);
      continue;
    }
    const before = telemetry.spans.spans().length;
    const failed = await pool.scope("secrets", () => pool!.acquire()).then(() => undefined, (error) => error);
    assertInstanceOf(failed, Error, `acquire() on ${where} fails: nothing listens on port 1`);
    assertHidden(Deno.inspect(failed, { depth: 10 }), secrets, `acquire() on ${where}`);
    const spans = JSON.stringify(viewTrace(telemetry.spans.spans().slice(before)));
    assertStringIncludes(spans, "get_connection");
    assertHidden(spans, secrets, `spans of a pool on ${where}`);
    assertHidden(warnings.join("\n"), secrets, `pool warnings on ${where}`);
    await pool.end();
  }
});

Deno.test("main.ts with each malformed DATABASE_URL exits 1 with one line that shows no secret", async () => {
  const run = async ({ url, secrets }: { url: string; secrets: string[] }) => {
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "main.ts"],
      cwd: ROOT,
      env: { DATABASE_URL: url, PORT: "0", OTEL_EXPORTER_OTLP_ENDPOINT: "" },
      stdin: "null",
    }).output();
    const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
    assertEquals(output.code, 1, `${url}: ${text}`);
    assertStringIncludes(text, "Leak Lab demo service did not start:");
    assertHidden(text, secrets, `main.ts with DATABASE_URL=${JSON.stringify(url)}`);
  };
  // A blank DATABASE_URL means "embedded": it is no malformed URL.
  const malformed = CORPUS.filter(({ url }) => url.trim() !== "");
  for (let i = 0; i < malformed.length; i += 4) await Promise.all(malformed.slice(i, i + 4).map(run));
});

/** An OTLP receiver on 127.0.0.1 that answers every export with 500. */
function failingReceiver() {
  let exports = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (request) => {
    await request.body?.cancel();
    exports++;
    return new Response("no", { status: 500 });
  });
  return { server, port: server.addr.port, exports: () => exports };
}

Deno.test("an OTLP endpoint's credentials never show in the banner, /api/info, the page or the export-failure logs", async () => {
  const database = new URL(checkpointDatabaseUrl());
  const secrets = ["Zq7Wx9k", "Yt5Vb3m", ...(database.password ? [decodeURIComponent(database.password)] : [])];
  const receiver = failingReceiver();
  using closed = Deno.listen({ hostname: "127.0.0.1", port: 0 }); // a port nothing answers on once closed
  const closedPort = closed.addr.port;
  closed.close();
  const endpoints: Record<string, string>[] = [
    { OTEL_EXPORTER_OTLP_ENDPOINT: `http://otel:Zq7Wx9k@127.0.0.1:${receiver.port}` },
    { OTEL_EXPORTER_OTLP_ENDPOINT: `http://Zq7Wx9k@127.0.0.1:${closedPort}/?token=Yt5Vb3m` },
    { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `http://otel:Zq7Wx9k@127.0.0.1:${receiver.port}/v1/traces` },
  ];
  try {
    for (const endpoint of endpoints) {
      const service = await startServiceProcess(ROOT, {
        DATABASE_URL: database.href,
        PORT: "0",
        OTEL_EXPORTER_OTLP_ENDPOINT: "",
        ...endpoint,
      });
      const where = JSON.stringify(endpoint);
      assert(service.address, `${where}: ${service.stdout}`);
      assertStringIncludes(service.stdout, "traces    exported to http://");
      const seen = [service.stdout];
      for (const path of ["api/info", "", "app.js", "api/traces?all=true"]) {
        seen.push(await (await fetch(new URL(path, service.address))).text());
      }
      const info = JSON.parse(seen[1]);
      assertStringIncludes(info.jaeger.endpoint, "***@127.0.0.1:");
      const good = await fetch(new URL("api/good", service.address), {
        method: "POST",
        headers: { "content-type": "application/json" },
      });
      seen.push(await good.text());
      await new Promise((resolve) => setTimeout(resolve, 1_500)); // one export attempt (every 500 ms) and its report
      const { code, stdout, stderr } = await service.stop("SIGTERM");
      assertEquals(code, 0, stderr);
      assertStringIncludes(stderr, "Could not export traces to http://", `${where}: the failure is reported`);
      seen.push(stdout, stderr);
      assertHidden(seen.join("\n"), secrets, where);
    }
    assert(receiver.exports() > 0, "the failing receiver was reached");
  } finally {
    await receiver.server.shutdown();
  }
});

Deno.test("JAEGER_UI_URL's credentials are in no link and nowhere shown: banner, /api/info, traceUrl, /api/traces", async () => {
  const database = new URL(checkpointDatabaseUrl());
  const secrets = ["admin", "Zq7Wx9k", ...(database.password ? [decodeURIComponent(database.password)] : [])];
  const receiver = failingReceiver(); // so that traces are "exported" and the banner and page show Jaeger links
  // A Jaeger query API on a free port: links are offered only when the UI answers (issue #20), at / and at /jaeger/.
  const jaegerApi = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (request) =>
      /\/api\/services$/.test(new URL(request.url).pathname)
        ? Response.json({ data: ["leak-lab"] })
        : new Response("not found", { status: 404 }),
  );
  const jaeger = `127.0.0.1:${jaegerApi.addr.port}`;
  const id = "4bf92f3577b34da6a3ce929d0e0e4736";
  assertEquals(traceUrl(id, `http://admin:Zq7Wx9k@${jaeger}/`), `http://${jaeger}/trace/${id}`);
  assertEquals(jaegerSearchUrl("leak-lab", {}, `http://Zq7Wx9k@${jaeger}`), `http://${jaeger}/search?service=leak-lab`);
  try {
    for (const ui of [`http://admin:Zq7Wx9k@${jaeger}`, `http://admin:Zq7Wx9k@${jaeger}/jaeger/`]) {
      const service = await startServiceProcess(ROOT, {
        DATABASE_URL: database.href,
        PORT: "0",
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${receiver.port}`,
        JAEGER_UI_URL: ui,
      });
      assert(service.address, service.stdout);
      const base = ui.endsWith("/jaeger/") ? `http://${jaeger}/jaeger` : `http://${jaeger}`;
      assertStringIncludes(service.stdout, `Jaeger UI at ${base}`);
      const seen = [service.stdout];
      const good = await (await fetch(new URL("api/good", service.address), {
        method: "POST",
        headers: { "content-type": "application/json" },
      })).json();
      assertStringIncludes(good.traceUrl, `${base}/trace/${good.traceId}`);
      const info = await (await fetch(new URL("api/info", service.address))).json();
      assertEquals(info.jaeger.ui.replace(/\/$/, ""), base);
      assertStringIncludes(info.prometheus.leakSearch, `${base}/search?`);
      seen.push(JSON.stringify(good), JSON.stringify(info));
      for (
        const path of ["api/traces?all=true", `api/traces/${good.traceId}`, `api/traces/${good.traceId}?format=html`]
      ) {
        const response = await fetch(new URL(path, service.address));
        const text = await response.text();
        assertEquals(response.status, 200, `${path}: ${text}`);
        assertStringIncludes(text, `${base}/trace/${good.traceId}`, path);
        seen.push(text);
      }
      const { code, stdout, stderr } = await service.stop("SIGTERM");
      assertEquals(code, 0, stderr);
      seen.push(stdout, stderr);
      assertHidden(seen.join("\n"), secrets, `JAEGER_UI_URL=${ui}`);
    }
  } finally {
    await jaegerApi.shutdown();
    await receiver.server.shutdown();
  }
});

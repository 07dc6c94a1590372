import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertMatch,
  assertNotMatch,
  assertRejects,
  assertStringIncludes,
  assertThrows,
} from "@std/assert";
import { SpanStatusCode } from "@opentelemetry/api";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { ErrorGuard, EscapedErrorsError } from "../lib/notebook/jupyter_guard.ts";
import { linkBundle, type MimeBundle, notebookCells, print, show } from "../lib/notebook.ts";
import { TracedPool } from "../lib/pool.ts";
import { currentTelemetry, jaegerUiAnswers, setupTelemetry, type Telemetry } from "../lib/telemetry.ts";
import { checkpointDatabaseUrl, uniquePoolName } from "../lib/workshop/checkpoint_database.ts";

const url = checkpointDatabaseUrl();

/** Each test gets its own pool, guard and display; they share this file's telemetry (it is process-wide). */
async function setup(options: { maxSpans?: number } = {}) {
  const telemetry = await setupTelemetry({ serviceName: "notebook-test", otlpEndpoint: false });
  const pool = new TracedPool({ connectionString: url, name: uniquePoolName("notebook-test"), log: () => {} });
  const shown: MimeBundle[] = [];
  const guard = new ErrorGuard().install();
  const cell = notebookCells({
    telemetry,
    pool,
    guard,
    display: (bundle) => Promise.resolve(void shown.push(bundle)),
    ...options,
  });
  const done = async () => {
    guard.uninstall();
    await pool.end();
  };
  return { telemetry, pool, shown, guard, cell, done };
}

function traceIdShown(bundle: MimeBundle): string {
  const match = /^(?:Jaeger: \S+\/trace\/|trace )([0-9a-f]{32})/m.exec(bundle["text/plain"]);
  if (!match) throw new Error(`No Jaeger trace link in: ${bundle["text/plain"]}`);
  return match[1];
}

function rootOf(telemetry: Telemetry, traceId: string): ReadableSpan {
  const spans = telemetry.spans.trace(traceId);
  const roots = spans.filter((s) => s.parentSpanContext === undefined);
  assertEquals(roots.length, 1, `one root span in ${spans.map((s) => s.name)}`);
  return roots[0];
}

Deno.test("notebookCells() refuses to start before setupTelemetry, saying what to call", () => {
  assertEquals(currentTelemetry(), undefined, "this test runs first in its file, before any setup");
  assertThrows(() => notebookCells(), Error, "call `await setupTelemetry()` first, or pass { telemetry }");
});

Deno.test("cell() runs its work in a new root trace inside the pool's scope and shows link and waterfall", async () => {
  const { telemetry, pool, shown, cell, done } = await setup();
  // An active span outside the cell must not become its parent: each cell is its own trace.
  const outer = telemetry.tracer.startSpan("outer");
  const rows = await telemetry.tracer.startActiveSpan("outer-active", (span) =>
    cell("read sensors", async () => {
      const conn = await pool.acquire();
      try {
        return (await conn.query("SELECT sensor_id FROM sensors ORDER BY id LIMIT 2")).rows;
      } finally {
        conn.release();
      }
    }).finally(() => span.end()));
  outer.end();

  assertEquals(rows, [{ sensor_id: "sensor-02" }, { sensor_id: "sensor-03" }]);
  assertEquals(shown.length, 1);
  const traceId = traceIdShown(shown[0]);
  const root = rootOf(telemetry, traceId);
  assertEquals(root.name, "read sensors");
  assert(traceId !== outer.spanContext().traceId);
  const children = telemetry.spans.trace(traceId).filter((s) => s !== root);
  assertEquals(children.map((s) => s.name).sort(), ["database.query", "get_connection", "return_connection"]);
  assert(children.every((s) => s.parentSpanContext?.spanId === root.spanContext().spanId));

  const [headline, link] = shown[0]["text/plain"].split("\n");
  assertMatch(
    headline,
    /^✓ cell "read sensors" · \d+\.\d ms · 4 spans · pool 0\/5 in use, 5 available, 0 leaked$/,
  );
  assertEquals(
    link,
    `trace ${traceId} · Jaeger: not exported (no OTLP endpoint was found when telemetry started); start Jaeger with ` +
      "`docker compose up -d jaeger` and restart the kernel. Every trace is drawn below all the same",
  );
  const html = shown[0]["text/html"] as string;
  assertStringIncludes(html, `data-trace-id="${traceId}"`);
  assertNotMatch(html, /href=/, "no link to a Jaeger that was not found");
  assertStringIncludes(html, "leak-lab-waterfall");
  for (const span of telemetry.spans.trace(traceId)) {
    assertStringIncludes(html, `data-span="${span.spanContext().spanId}"`);
  }
  await done();
});

Deno.test("cell() marks a connection still out at its end as leaked and says so", async () => {
  const { telemetry, pool, shown, cell, done } = await setup();
  const lease = await cell("forgets to release", () => pool.acquire());

  assertEquals(pool.stats().leaked, 1);
  assertStringIncludes(
    shown[0]["text/plain"].split("\n")[0],
    "pool 1/5 in use, 4 available, 1 leaked (+1 in this cell)",
  );
  const root = rootOf(telemetry, traceIdShown(shown[0]));
  const leak = root.events.find((e) => e.name === "connection_leaked");
  assertEquals(leak?.attributes?.["lease.id"], lease.id);
  assertStringIncludes(shown[0]["text/html"] as string, "connection_leaked");
  assertEquals(pool.reset(), 1);
  await done();
});

Deno.test("cell() shows the trace of failed work, then rethrows its error", async () => {
  const { telemetry, pool, shown, cell, done } = await setup();
  const error = await assertRejects(() => cell("divides by zero", () => pool.query("SELECT 1 / 0")));

  assertEquals((error as { code?: string }).code, "22012");
  assertEquals(shown.length, 1);
  assertMatch(shown[0]["text/plain"], /^✖ cell "divides by zero" · .* · failed: error: division by zero\n/);
  const root = rootOf(telemetry, traceIdShown(shown[0]));
  assertEquals(root.status.code, SpanStatusCode.ERROR);
  assertEquals(pool.stats().active, 0);
  await done();
});

Deno.test("cell() fails for an error that escaped it, and the next cell for one that escaped between cells", async () => {
  const { shown, cell, guard, done } = await setup();
  const stray = await assertRejects(
    () =>
      cell("starts a promise it never awaits", () => {
        Promise.reject(new Error("nobody awaited me"));
        return 1;
      }),
    EscapedErrorsError,
    "1 error(s) escaped a cell without failing it",
  );
  assertStringIncludes(stray.message, "Error: nobody awaited me");
  assertEquals(shown.length, 1, "the cell's trace is still shown");

  setTimeout(() => {
    throw new Error("thrown in a timer");
  }, 0);
  await new Promise((resolve) => setTimeout(resolve, 10));
  let ran = false;
  await assertRejects(
    () => cell("runs after the stray timer", () => (ran = true)),
    EscapedErrorsError,
    "Error: thrown in a timer",
  );
  assertEquals(ran, false, "the cell does not start while an earlier error is unreported");
  assertEquals(await cell("runs once the error was reported", () => 2), 2);

  Promise.reject(new Error("escaped the last cell"));
  await assertRejects(() => cell.finish(), EscapedErrorsError, "escaped the last cell");
  await cell.finish();
  assert(guard.installed);
  await done();
  assertEquals(guard.installed, false);
});

Deno.test("cell() without a pool runs its work in a root span of the telemetry's tracer", async () => {
  const telemetry = await setupTelemetry({ otlpEndpoint: false });
  const shown: MimeBundle[] = [];
  const guard = new ErrorGuard().install();
  const cell = notebookCells({ telemetry, guard, display: (bundle) => Promise.resolve(void shown.push(bundle)) });
  const value = await cell("no pool", () => "done", { summary: (v) => `returned ${v}` });
  guard.uninstall();

  assertEquals(value, "done");
  assertMatch(shown[0]["text/plain"], /^✓ cell "no pool" · \d+\.\d ms · 1 spans · returned done\n/);
  assertEquals(rootOf(telemetry, traceIdShown(shown[0])).name, "no pool");
});

Deno.test("cell() draws at most maxSpans spans and says how many more the trace has", async () => {
  const { pool, shown, cell, done } = await setup({ maxSpans: 2 });
  await cell("four spans", () => pool.query("SELECT 1"));

  const text = shown[0]["text/plain"];
  assertStringIncludes(text, "· 4 spans ·");
  assertStringIncludes(text, "… 2 more spans: open the trace");
  assertEquals((shown[0]["text/html"] as string).match(/<details[^>]* data-span=/g)?.length, 2);
  await done();
});

Deno.test("notebookCells() and cell() reject bad options and names with a RangeError", async () => {
  const { telemetry, cell, done } = await setup();
  assertThrows(
    () => notebookCells({ telemetry, maxSpans: 0 }),
    RangeError,
    "Cannot wrap notebook cells as 'maxSpans' must be a positive integer: current value is 0",
  );
  assertThrows(
    () => notebookCells({ telemetry, display: "html" as never }),
    RangeError,
    "'display' must be a function: current value is html",
  );
  await assertRejects(() => cell(" ", () => 1), RangeError, "'name' must be a non-empty string");
  await done();
});

Deno.test("show() and print() print to the console outside a Jupyter kernel; linkBundle() escapes its HTML", async () => {
  const printed: unknown[] = [];
  const original = console.log;
  console.log = (...args: unknown[]) => void printed.push(...args);
  try {
    await show({ "text/plain": "plain", "text/html": "<b>rich</b>" });
    await print("request", 3, { ok: false });
  } finally {
    console.log = original;
  }
  assertEquals(printed, ["plain", "request 3 { ok: false }"]);

  const bundle = linkBundle("http://localhost:16686/search?service=a&tags=%7B%7D", `Traces <"leaked">`);
  assertEquals(bundle["text/plain"], `Traces <"leaked">: http://localhost:16686/search?service=a&tags=%7B%7D`);
  assertStringIncludes(bundle["text/html"] as string, `href="http://localhost:16686/search?service=a&amp;tags=%7B%7D"`);
  assertStringIncludes(bundle["text/html"] as string, "Traces &lt;&quot;leaked&quot;&gt;");
});

Deno.test("ErrorGuard.check() throws EscapedErrorsError listing every escaped error once, oldest first", async () => {
  const guard = new ErrorGuard().install();
  Promise.reject(new Error("first"));
  Promise.reject("second, not an Error");
  await new Promise((resolve) => setTimeout(resolve, 0));
  const error = assertThrows(() => guard.check(), EscapedErrorsError);
  guard.uninstall();

  assertInstanceOf(error.cause, Error);
  assertEquals(error.name, "EscapedErrorsError");
  assertEquals(error.errors.length, 2);
  assertStringIncludes(error.message, "  - Error: first\n  - second, not an Error\nAwait every promise");
  guard.check(); // reported once, then forgotten
});

/** An HTTP server on 127.0.0.1 (a free port): `jaeger` answers like Jaeger's query API, `other` like anything else. */
function localServer(kind: "jaeger" | "other") {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    if (kind === "jaeger" && new URL(request.url).pathname === "/api/services") {
      return Response.json({ data: ["leak-lab"], total: 1 });
    }
    return new Response("404 page not found", { status: 404 });
  });
  return { url: `http://127.0.0.1:${server.addr.port}`, close: () => server.shutdown() };
}

Deno.test("jaegerUiAnswers() is true only where Jaeger's query API answers, not for any listener or a closed port", async () => {
  const jaeger = localServer("jaeger");
  const other = localServer("other"); // an OpenTelemetry Collector on 4318, say: it answers, but is no Jaeger UI
  try {
    assertEquals(await jaegerUiAnswers(jaeger.url), true);
    assertEquals(await jaegerUiAnswers(`${jaeger.url}/`), true);
    assertEquals(await jaegerUiAnswers(other.url), false);
  } finally {
    await jaeger.close();
    await other.close();
  }
  assertEquals(await jaegerUiAnswers(jaeger.url), false, "closed now");
  assertEquals(await jaegerUiAnswers("not a url"), false);
});

Deno.test("cell() links its trace only when Jaeger's UI answers (JAEGER_UI_URL), and says why not once per notebook", async () => {
  const base = await setupTelemetry({ serviceName: "notebook-test", otlpEndpoint: false });
  // Spans "exported" somewhere: what decides the link is whether a Jaeger UI answers.
  const telemetry: Telemetry = { ...base, exportingTo: "http://127.0.0.1:4318/v1/traces" };
  const pool = new TracedPool({ connectionString: url, name: uniquePoolName("notebook-test"), log: () => {} });
  const guard = new ErrorGuard().install();
  const jaeger = localServer("jaeger");
  const other = localServer("other");
  const saved = Deno.env.get("JAEGER_UI_URL");
  try {
    Deno.env.set("JAEGER_UI_URL", jaeger.url);
    const linked: MimeBundle[] = [];
    const withJaeger = notebookCells({ telemetry, pool, guard, display: (b) => Promise.resolve(void linked.push(b)) });
    await withJaeger("first", () => 1);
    await withJaeger("second", () => 2);
    assertEquals(await withJaeger.jaegerUi(), jaeger.url);
    for (const bundle of linked) {
      const id = traceIdShown(bundle);
      assertEquals(bundle["text/plain"].split("\n")[1], `Jaeger: ${jaeger.url}/trace/${id}`);
      assertStringIncludes(bundle["text/html"] as string, `href="${jaeger.url}/trace/${id}"`);
    }

    Deno.env.set("JAEGER_UI_URL", other.url);
    const unlinked: MimeBundle[] = [];
    const noUi = notebookCells({ telemetry, pool, guard, display: (b) => Promise.resolve(void unlinked.push(b)) });
    await noUi("first", () => 1);
    await noUi("second", () => 2);
    await noUi("third", () => 3);
    assertEquals(await noUi.jaegerUi(), undefined);
    const lines = unlinked.map((bundle) => bundle["text/plain"].split("\n")[1]);
    assertEquals(
      lines[0],
      `trace ${traceIdShown(unlinked[0])} · Jaeger: no link (traces go to http://127.0.0.1:4318/v1/traces, but no ` +
        `Jaeger UI answers at ${other.url}; set JAEGER_UI_URL). Every trace is drawn below all the same`,
    );
    assertEquals(lines.slice(1), unlinked.slice(1).map((bundle) => `trace ${traceIdShown(bundle)}`), "the hint once");
    for (const bundle of unlinked) assertNotMatch(bundle["text/html"] as string, /href=/);
  } finally {
    if (saved === undefined) Deno.env.delete("JAEGER_UI_URL");
    else Deno.env.set("JAEGER_UI_URL", saved);
    guard.uninstall();
    await pool.end();
    await jaeger.close();
    await other.close();
  }
});

Deno.test('cell() with { trace: "requests" } folds each request into one row that says it leaked', async () => {
  const { pool, shown, cell, done } = await setup();
  await cell("three requests", async () => {
    for (const request of [1, 2, 3]) {
      await pool.scope("request", async () => {
        await pool.scope("handler", async () => {
          const conn = await pool.acquire();
          await conn.query("SELECT 1");
          if (request !== 2) conn.release(); // request 2 forgets
        });
      }, { attributes: { "leaklab.request": request } });
    }
  }, { trace: "requests" });
  const lines = shown[0]["text/plain"].split("\n").slice(2);
  assertEquals(lines.length, 4, lines.join("\n")); // the root and one row per request
  assertMatch(lines[1], /^├─ request #1 \(\d+\.\d\d ms\) {2}\(\+4 spans\)$/);
  assertMatch(lines[2], /^├─ request #2 \(\d+\.\d\d ms\) {2}⚑ leaked a connection {2}\(\+3 spans\)$/);
  assertMatch(lines[3], /^└─ request #3 \(\d+\.\d\d ms\) {2}\(\+4 spans\)$/);
  assertEquals(pool.reset(), 1);
  await done();
});

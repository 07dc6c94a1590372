/**
 * The workshop notebooks, as committed and as executed: every notebook runs
 * headless in a fresh Deno kernel (tasks/run_notebooks.py), exporting its
 * traces over OTLP/HTTP to a receiver this test starts on 127.0.0.1, and the
 * test reads the executed copies' outputs.
 */
import { assert, assertEquals, assertGreaterOrEqual, assertMatch, assertNotMatch } from "@std/assert";
import { basename } from "node:path";
import { PLOTLY_MIME, type PlotlyFigure } from "../lib/notebook.ts";
import { LEAK_SEARCH_TAGS } from "../lib/pool.ts";
import { JUPYTER_INSTALL, JUPYTER_PYTHON, jupyterStatus, listNotebooks, runNotebooks } from "../tasks/notebooks.ts";
import { requirement } from "./support/requirement.ts";

interface Output {
  output_type: string;
  name?: string;
  text?: string | string[];
  data?: Record<string, unknown>;
  ename?: string;
  evalue?: string;
}
interface Cell {
  cell_type: string;
  source: string | string[];
  execution_count?: number | null;
  outputs?: Output[];
  metadata: Record<string, unknown>;
}
interface Notebook {
  nbformat: number;
  nbformat_minor: number;
  metadata: { kernelspec?: Record<string, unknown> };
  cells: Cell[];
}

const NOTEBOOKS = listNotebooks();
const joined = (text: string | string[] | undefined) => (Array.isArray(text) ? text.join("") : text ?? "");
// deno-lint-ignore no-control-regex -- the kernel colours inspected values with ANSI escapes
const stripAnsi = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, "");
const codeCells = (nb: Notebook) => nb.cells.filter((cell) => cell.cell_type === "code");

/** Every output of a cell as text: streams, and the text/plain of rich outputs. */
function outputText(cell: Cell): string {
  return stripAnsi(
    (cell.outputs ?? []).map((o) => joined(o.text) + joined(o.data?.["text/plain"] as string | string[])).join("\n"),
  );
}

function figures(nb: Notebook): PlotlyFigure[] {
  return codeCells(nb).flatMap((cell) => cell.outputs ?? [])
    .filter((o) => o.data?.[PLOTLY_MIME])
    .map((o) => o.data![PLOTLY_MIME] as PlotlyFigure);
}

function ys(figure: PlotlyFigure, name: string): number[] {
  const found = figure.data.find((s) => s.name === name);
  if (!found) throw new Error(`No series "${name}" in ${figure.data.map((s) => s.name)}`);
  return found.y;
}

/** The one code cell whose source includes `marker`. */
function cellWith(nb: Notebook, marker: string): Cell {
  const found = codeCells(nb).filter((cell) => joined(cell.source).includes(marker));
  assertEquals(found.length, 1, `one code cell containing ${JSON.stringify(marker)}`);
  return found[0];
}

Deno.test("notebooks/*.ipynb are committed clean: no outputs, no counts, the Deno kernel, no machine paths", () => {
  assertEquals(NOTEBOOKS.map((path) => basename(path)), [
    "01_meet_the_pool.ipynb",
    "02_the_leak.ipynb",
    "03_reading_the_traces.ipynb",
    "04_the_fix.ipynb",
    "05_prevention.ipynb",
  ]);
  for (const path of NOTEBOOKS) {
    const raw = Deno.readTextFileSync(path);
    const nb: Notebook = JSON.parse(raw);
    const name = basename(path);
    assertEquals(nb.nbformat, 4, name);
    assertGreaterOrEqual(nb.nbformat_minor, 4, name);
    assertEquals(nb.metadata.kernelspec, { name: "deno", display_name: "Deno", language: "typescript" }, name);
    for (const cell of codeCells(nb)) {
      assertEquals(cell.outputs, [], `${name}: outputs are never committed`);
      assertEquals(cell.execution_count, null, `${name}: execution counts are never committed`);
      assertEquals(cell.metadata, {}, `${name}: no execution timings or other cell metadata`);
    }
    assertNotMatch(raw, /\/(work|root|home|Users|tmp)\/|file:\/\/|[A-Z]:\\\\/, `${name}: no machine-specific paths`);

    // Each notebook stands alone: a title, its own setup, its own cleanup.
    assertMatch(joined(nb.cells[0].source), /^# \d · /, `${name} starts with its title`);
    const code = codeCells(nb).map((cell) => joined(cell.source));
    for (const call of ["setupTelemetry(", "openDatabase()", "new TracedPool(", "notebookCells("]) {
      assert(code[0].includes(call), `${name}: the first code cell (setup) calls ${call}`);
    }
    const cleanup = code[code.length - 1];
    assertEquals(cleanup, "await pool.end();\nawait telemetry.shutdown();\nawait db.stop();\nawait cell.finish();");
  }
});

Deno.test("notebook code cells type-check, each notebook as one TypeScript module", async () => {
  // Cells run with the notebook's folder as cwd; test-artifacts/ sits at the same depth, so "../lib" resolves alike.
  const dir = new URL("../test-artifacts/", import.meta.url);
  await Deno.mkdir(dir, { recursive: true });
  const files: string[] = [];
  for (const path of NOTEBOOKS) {
    const nb: Notebook = JSON.parse(await Deno.readTextFile(path));
    const file = new URL(`notebook_check_${basename(path, ".ipynb")}.ts`, dir).pathname;
    await Deno.writeTextFile(file, codeCells(nb).map((cell) => joined(cell.source)).join("\n\n") + "\n");
    files.push(file);
  }
  try {
    const { code, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["check", "--quiet", ...files],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assertEquals(code, 0, `deno check failed:\n${new TextDecoder().decode(stderr)}`);
  } finally {
    for (const file of files) await Deno.remove(file);
  }
});

/**
 * An OTLP/HTTP traces endpoint on 127.0.0.1 (a free port) that keeps what it receives, and answers
 * `GET /api/services` as Jaeger's query API does: with JAEGER_UI_URL pointing here, the notebooks link their traces.
 */
function otlpReceiver() {
  const spans: ExportedSpan[] = [];
  const problems: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    if (request.method === "GET" && new URL(request.url).pathname === "/api/services") {
      return Response.json({ data: ["leak-lab-notebooks"], total: 1 });
    }
    if (request.method !== "POST" || new URL(request.url).pathname !== "/v1/traces") {
      problems.push(`unexpected ${request.method} ${request.url}`);
      return new Response("not found", { status: 404 });
    }
    if (!request.headers.get("content-type")?.startsWith("application/json")) {
      problems.push(`expected OTLP JSON, got ${request.headers.get("content-type")}`);
      return new Response("unsupported", { status: 415 });
    }
    const body = request.headers.get("content-encoding") === "gzip"
      ? request.body!.pipeThrough(new DecompressionStream("gzip"))
      : request.body;
    spans.push(...decodeOtlp(await new Response(body).json()));
    return Response.json({});
  });
  return { url: `http://127.0.0.1:${server.addr.port}`, spans, problems, close: () => server.shutdown() };
}

interface ExportedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  service: string;
  statusCode: number;
  events: string[];
}

interface OtlpValue {
  stringValue?: string;
}
interface OtlpTraces {
  resourceSpans: {
    resource: { attributes: { key: string; value: OtlpValue }[] };
    scopeSpans: {
      spans: {
        traceId: string;
        spanId: string;
        parentSpanId?: string;
        name: string;
        status?: { code?: number };
        events?: { name: string }[];
      }[];
    }[];
  }[];
}

function decodeOtlp(payload: OtlpTraces): ExportedSpan[] {
  return payload.resourceSpans.flatMap((resource) => {
    const service = resource.resource.attributes.find((a) => a.key === "service.name")?.value.stringValue ?? "";
    return resource.scopeSpans.flatMap((scope) =>
      scope.spans.map((span) => ({
        traceId: span.traceId,
        spanId: span.spanId,
        parentSpanId: span.parentSpanId || undefined,
        name: span.name,
        service,
        statusCode: span.status?.code ?? 0,
        events: (span.events ?? []).map((event) => event.name),
      }))
    );
  });
}

Deno.test({
  name: "run_notebooks.py executes every notebook headless, each cell's trace exported and linked",
  ...requirement("Jupyter (Debian nbclient + Deno kernel)", jupyterStatus().ok, JUPYTER_INSTALL),
  async fn(t) {
    const receiver = otlpReceiver();
    const outDir = await Deno.makeTempDir({ prefix: "leak-lab-notebooks-" });
    const nb: Record<string, Notebook> = {};
    try {
      const run = await runNotebooks({
        outDir,
        output: "piped",
        env: {
          OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
          OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.url}/v1/traces`,
          JAEGER_UI_URL: receiver.url,
        },
      });
      assertEquals(run.code, 0, `run_notebooks.py failed:\n${run.stdout}\n${run.stderr}`);
      for (const path of NOTEBOOKS) {
        nb[basename(path, ".ipynb")] = JSON.parse(await Deno.readTextFile(`${outDir}/${basename(path)}`));
      }
    } finally {
      await receiver.close();
      await Deno.remove(outDir, { recursive: true });
    }
    assertEquals(receiver.problems, []);

    await t.step("every code cell ran in order, with no error and nothing on stderr", () => {
      for (const [name, notebook] of Object.entries(nb)) {
        codeCells(notebook).forEach((cell, i) => {
          assertEquals(cell.execution_count, i + 1, `${name} cell ${i + 1} ran`);
          for (const output of cell.outputs ?? []) {
            const detail = `${name} cell ${i + 1}: ${output.ename ?? ""} ${output.evalue ?? joined(output.text)}`;
            assert(output.output_type !== "error", detail);
            assert(output.name !== "stderr", detail);
          }
        });
      }
    });

    await t.step("every wrapped cell links a trace that was exported over OTLP and is rooted at that cell", () => {
      let wrapped = 0;
      for (const [name, notebook] of Object.entries(nb)) {
        for (const cell of codeCells(notebook)) {
          for (const [, cellName] of joined(cell.source).matchAll(/\bcell\(\s*"([^"]+)"/g)) {
            wrapped++;
            const shown = (cell.outputs ?? []).find((o) =>
              joined(o.data?.["text/plain"] as string[]).startsWith(`✓ cell "${cellName}"`)
            );
            assert(shown, `${name}: cell "${cellName}" shows its summary`);
            const text = joined(shown.data!["text/plain"] as string[]);
            const [, traceId] = /\nJaeger: http:\/\/\S+\/trace\/([0-9a-f]{32})\n/.exec(text) ?? [];
            assert(traceId, `${name}: cell "${cellName}" links its Jaeger trace:\n${text.slice(0, 300)}`);
            assert(joined(shown.data!["text/html"] as string[]).includes("leak-lab-waterfall"));
            const exported = receiver.spans.filter((span) => span.traceId === traceId);
            const roots = exported.filter((span) => !span.parentSpanId);
            assertEquals(roots.map((s) => s.name), [cellName], `${name}: trace ${traceId} was exported, one root`);
            assert(exported.every((span) => span.service === "leak-lab-notebooks"));
            const [, spanCount] = /· (\d+) spans ·/.exec(text)!;
            assertGreaterOrEqual(exported.length, Number(spanCount), `${name}: every span drawn was exported`);
          }
        }
      }
      assertEquals(wrapped, 14, "wrapped cells across the five notebooks");
    });

    await t.step("plots carry plotly JSON with the expected series and a light SVG fallback", () => {
      const names = (key: string) => figures(nb[key]).map((figure) => figure.data.map((s) => s.name));
      const progression = ["leaked", "active", "available", "query failed"];
      assertEquals(names("01_meet_the_pool"), [["leaked", "active", "waiting"]]);
      assertEquals(names("02_the_leak"), [[...progression, "pool exhausted"]]);
      assertEquals(names("03_reading_the_traces"), []);
      assertEquals(names("04_the_fix"), [progression, progression]);
      assertEquals(names("05_prevention"), [
        ["utilisation", "warning 70 %", "critical 85 %"],
        ["leaked", "active", "waiting", "warning 70 %", "critical 85 %"],
      ]);
      for (const notebook of Object.values(nb)) {
        for (const output of codeCells(notebook).flatMap((cell) => cell.outputs ?? [])) {
          if (!output.data?.[PLOTLY_MIME]) continue;
          const html = joined(output.data["text/html"] as string[]);
          assert(html.includes("<svg") && !html.includes("<script") && html.length < 30_000, html.slice(0, 200));
        }
      }
      const healthy = figures(nb["01_meet_the_pool"])[0];
      assertEquals(ys(healthy, "leaked").every((v) => v === 0), true);
      assertEquals(Math.max(...ys(healthy, "active")), 5);
      // As the text says: five run while three wait. (The first five acquires resolve one by one within the same
      // millisecond, so "active" reaches 5 a few samples in; after that, whoever waits finds all five busy, but for
      // the instant between a release and the waiter it wakes.)
      assertEquals(Math.max(...ys(healthy, "waiting")), 3);
      const at = healthy.data.find((s) => s.name === "waiting")!.x;
      ys(healthy, "waiting").forEach((waiting, i) => {
        if (at[i] > 0.005) {
          assert(waiting <= ys(healthy, "active")[i], `waiting ${waiting} at ${at[i]} s, more than active`);
        }
      });
      assertEquals(ys(healthy, "active").slice(0, 8).includes(5), true, "all five busy within the first samples");
      // The leaked band is drawn first, so active (equal to it while leaks are all that is out) shows on top.
      const timeline = figures(nb["05_prevention"]).find((f) => f.data.some((s) => s.name === "waiting"))!;
      assertEquals(timeline.data[0].name, "leaked");
      assertEquals([timeline.data[0].line?.width, timeline.data[0].opacity], [9, 0.35]);
      const levels = timeline.data.filter((s) => s.name.startsWith("warning") || s.name.startsWith("critical"));
      assertEquals(levels.map((s) => s.line?.color), ["#d97706", "#dc2626"], "warning amber, critical red");
    });

    await t.step("the leak notebook drains the pool to 0 available, then every request fails", () => {
      const [figure] = figures(nb["02_the_leak"]);
      assertEquals(ys(figure, "available"), [5, 4, 4, 3, 3, 2, 2, 1, 1, 0, 0, 0]);
      assertEquals(ys(figure, "leaked"), [0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 5]);
      assertEquals(figure.data.find((s) => s.name === "pool exhausted")!.x, [11, 12]);
      const table = outputText(cellWith(nb["02_the_leak"], "twelve requests through the leaking handler"));
      assertMatch(table, /^11\s+5\s+0\s+5\s+pool exhausted$/m);
      assertMatch(table, /^12\s+5\s+0\s+5\s+pool exhausted$/m);
      const leaks = outputText(cellWith(nb["02_the_leak"], "pool.leaks()"));
      assertEquals(leaks.match(/lib\/demo\/query_handlers\.ts:\d+:\d+/g)?.length, 5, leaks);
      assertMatch(outputText(cellWith(nb["02_the_leak"], "pool.reset()")), /5 leaked connections reclaimed/);
      // The same story in the exported spans: five leak events, two acquires that timed out.
      const trace = traceOf(outputText(cellWith(nb["02_the_leak"], "twelve requests through the leaking handler")));
      const spans = receiver.spans.filter((span) => span.traceId === trace);
      assertEquals(spans.flatMap((span) => span.events).filter((e) => e === "connection_leaked").length, 5);
      assertEquals(spans.filter((span) => span.name === "get_connection" && span.statusCode === 2).length, 2);
      assertEquals(spans.filter((span) => span.name === "return_connection").length, 5);
    });

    await t.step("the traces notebook finds the leaks in spans, in a Jaeger search and in pg_stat_activity", () => {
      const notebook = nb["03_reading_the_traces"];
      const backends = outputText(cellWith(notebook, "pg_stat_activity"));
      const search = outputText(cellWith(notebook, "const spans = telemetry.spans.spans();"));
      assertEquals(search.match(/✗ missing\s+⚠\s+\S*lib\/demo\/query_handlers\.ts:\d+:\d+/g)?.length, 3, search);
      assertEquals(search.match(/→ return_connection\s+✓/g)?.length, 3, search);
      assertMatch(outputText(cellWith(notebook, "readTextFile")), /^▶ \d+ +const conn = await pool\.acquire\(\);$/m);
      const link = outputText(cellWith(notebook, "jaegerSearchUrl("));
      const [, query] = /\/search\?(\S+)/.exec(link) ?? [];
      const params = new URLSearchParams(query);
      assertEquals(params.get("service"), "leak-lab-notebooks");
      assertEquals(JSON.parse(params.get("tags")!), LEAK_SEARCH_TAGS, "the tag the pool puts on leaking spans");
      assertMatch(
        link,
        /this notebook's spans: 3 bad_query_with_leak spans tagged leaklab\.leak=true, in 3 traces: requests 2, 4, 6, every one that leaked\./,
      );
      assertMatch(
        link,
        /^Traces that leaked a connection: http:\/\/127\.0\.0\.1:\d+\/search\?/m,
        "a link: Jaeger answers",
      );
      // One trace per simulated request: the search finds each leaking request, and each was exported.
      const requests = outputText(cellWith(notebook, "root: true"));
      const traceIds = [...requests.matchAll(/^\d\s+(?:ok|query failed)\s+\d\s+\d\s+\d\s+([0-9a-f]{32})$/gm)].map((m) =>
        m[1]
      );
      assertEquals(new Set(traceIds).size, 6, requests);
      for (const id of traceIds) assert(receiver.spans.some((span) => span.traceId === id), `trace ${id} exported`);
      assertMatch(requests, /✗ return_connection {2}MISSING: the connection never came back/);
      const idle = [...backends.matchAll(/^(?:⚠ leaked|\s)\s*\d+\s+\w+\s+(-?\d+)\s/gm)].map((m) => Number(m[1]));
      assert(idle.length >= 4 && idle.every((ms) => ms >= 0), `no negative idle_ms:\n${backends}`);
      assertEquals(backends.match(/^⚠ leaked\s+\d+\s+idle\s+\d+\s+SET LOCAL statement_timeout/gm)?.length, 3, backends);
    });

    await t.step("the fix notebook ends with 0 leaked after 24 requests and 12 real failures", () => {
      const [withFinally, withUsing] = figures(nb["04_the_fix"]);
      for (const figure of [withFinally, withUsing]) {
        assertEquals(ys(figure, "leaked"), Array(12).fill(0));
        assertEquals(ys(figure, "available"), Array(12).fill(5));
        assertEquals(figure.data.find((s) => s.name === "query failed")!.x.length, 6);
      }
      const verdict = outputText(cellWith(nb["04_the_fix"], "const after = pool.stats();"));
      assertMatch(verdict, /active: 0,/);
      assertMatch(verdict, /leaked: 0,/);
      const sideBySide = cellWith(nb["04_the_fix"], "tracesSideBySide([");
      const html = joined(sideBySide.outputs!.find((o) => o.data?.["text/html"])!.data!["text/html"] as string[]);
      assertEquals(html.match(/class="leak-lab-waterfall"/g)?.length, 2, "two traces side by side");
      assertEquals(html.match(/data-missing="return_connection"/g)?.length, 1, "the leak's missing release, marked");
      const [leakText, fixText] = outputText(sideBySide).split("── The fix");
      assertMatch(leakText, /✗ return_connection {2}MISSING/);
      assertMatch(fixText, /return_connection \(/);
      assertNotMatch(fixText, /MISSING/);
    });

    await t.step("the prevention notebook reports the slow holder, names the holders and raises the alerts", () => {
      const notebook = nb["05_prevention"];
      const slow = outputText(cellWith(notebook, "a slow holder"));
      assertMatch(
        slow,
        /Connection leak detected in pool "nb5-prevention": connection #1 .* longer than leakThreshold/,
      );
      assertMatch(slow, /connection #1 was returned to the pool \(unleaked\)/);
      const exhausted = outputText(cellWith(notebook, "a request on an exhausted pool"));
      assertMatch(exhausted, /Connection pool exhausted: pool "nb5-prevention" had no connection available/);
      assertEquals(exhausted.match(/lib\/demo\/query_handlers\.ts:\d+:\d+\s+true$/gm)?.length, 5, exhausted);
      const adaptive = outputText(cellWith(notebook, "adaptive acquire sites"));
      assertMatch(
        adaptive,
        /^1\s+bad_query_with_leak\s+[0-9a-f]{32}\s+\(acquire site not captured: the pool was healthy/m,
      );
      assertMatch(adaptive, /^2\s+bad_query_with_leak\s+[0-9a-f]{32}\s+notebook cell:\d+:\d+$/m);
      const alerts = outputText(cellWith(notebook, "utilisationAlert("));
      assertMatch(alerts, /^3\/5\s+ok\n4\/5\s+WARNING\n5\/5\s+CRITICAL: page$/m);
      assertMatch(
        outputText(cellWith(notebook, "a request that waits")),
        /^6 acquires in this cell \(\d+ in the histogram since the notebook started\), longest wait 1\.\d\d s: ALERT, over 1 s$/m,
      );
      const timeline = figures(notebook).find((figure) => figure.data.some((series) => series.name === "waiting"))!;
      assertGreaterOrEqual(Math.max(...ys(timeline, "waiting")), 1, "the timeline shows requests waiting");
      const metrics = outputText(cellWith(notebook, "collectMetrics()).filter"));
      for (const metric of ["count", "max", "pending_requests", "timeouts", "wait_time", "use_time"]) {
        assertMatch(metrics, new RegExp(`^db\\.client\\.connection\\.${metric} `, "m"));
      }
      assertMatch(metrics, /^leaklab\.db\.client\.connection\.leaked /m);

      // Prometheus: the scrape, the rules of prometheus/alerts.yml on it, utilisation against 70 / 85 %.
      const scrape = outputText(cellWith(notebook, "four leaks, then one scrape"));
      assertMatch(
        scrape,
        /^leaklab_db_client_connection_leaked\{db_client_connection_pool_name="nb5-prevention",.*\} 4$/m,
      );
      assertMatch(
        scrape,
        /^db_client_connection_count\{.*db_client_connection_state="used".*service_instance_id="[0-9a-f-]{36}".*\} 4$/m,
      );
      const rules = outputText(cellWith(notebook, "prometheus/alerts.yml"));
      assertMatch(rules, /^FIRING +DbPoolUtilisationWarning: 4 of 5 connections in use \(80 %\)/m);
      assertMatch(rules, /^FIRING +DbPoolConnectionLeaked: 4 leaked/m);
      assertMatch(rules, /^ok +DbPoolUtilisationCritical/m);
      assertMatch(
        rules,
        /^DbPoolAcquireTimeouts +critical +2m +increase\(db_client_connection_timeouts_total\[5m\]\) > 0$/m,
      );
      const utilisation = figures(notebook).find((f) =>
        f.layout.title?.text === "Utilisation, as Prometheus scrapes it"
      )!;
      const percents = ys(utilisation, "utilisation");
      assertEquals([percents[0], percents.at(-1)], [0, 100]);
      assertEquals([...new Set(percents)], [0, 20, 40, 60, 80, 100], "one step per leaked connection of 5");
      assertEquals(ys(utilisation, "warning 70 %"), [70, 70]);
      assertEquals(ys(utilisation, "critical 85 %"), [85, 85]);
    });

    await t.step("status is text, not emoji a browser without an emoji font draws as empty boxes", () => {
      for (const [name, notebook] of Object.entries(nb)) {
        for (const cell of notebook.cells) {
          const text = joined(cell.source) + (cell.cell_type === "code" ? outputText(cell) : "");
          assertNotMatch(text, /[\u{1F000}-\u{1FAFF}]/u, `${name}: ${text.slice(0, 120)}`);
        }
      }
    });

    await t.step("the prevention notebook numbers its sections once each and keeps its intro's promise", () => {
      const notebook = nb["05_prevention"];
      const markdown = notebook.cells.filter((c) => c.cell_type === "markdown").map((c) => joined(c.source)).join("\n");
      const sections = [...markdown.matchAll(/^## (\d+)\. /gm)].map((m) => Number(m[1]));
      assertEquals(sections, [1, 2, 3, 4, 5, 6, 7]);
      const intro = joined(notebook.cells[0].source);
      assertMatch(intro, /seven tools/);
      assertEquals([...intro.matchAll(/^\d\. \*\*/gm)].length, 7, "the seven it lists");
      const takeAways = markdown.split("## Take-aways")[1];
      assertMatch(takeAways, /deno lint/);
      assertMatch(takeAways, /sampling never hides one/);
    });

    await t.step(
      "the prevention notebook's sampling cell shows, on a real run, every leak found though most are unsampled",
      () => {
        const text = outputText(cellWith(nb["05_prevention"], "runSampledLeaks"));
        const [, requests, sampled, leaked, found] =
          text.match(/^(\d+) requests at 10 %: (\d+) sampled, (\d+) leaked, (\d+) found/m) ?? [];
        assertEquals([requests, leaked, found], ["40", "13", "13"], text);
        assert(Number(sampled) < 20, `most requests were not sampled (${sampled} of 40 were)`); // binomial(40, 0.1): p < 1e-9
        assertMatch(text, /not sampled +found +exported: connection_leak_detected$/m);
        assertNotMatch(text, /MISSED/);
      },
    );

    await t.step("the prevention notebook's lint cells catch badQueryWithLeak, pass goodQueryNoLeak, fix it", () => {
      const notebook = nb["05_prevention"];
      const lint = outputText(cellWith(notebook, "lintReport"));
      assertMatch(
        lint,
        /^✗ badQueryWithLeak:\n+ {2}leak-lab\/release-on-every-path, line \d+: const conn = await pool\.acquire\(\);\n+ {2}`conn` is released only on the success path: if `await readSensors\(conn, faults\)` \(line \d+\) throws/m,
      );
      assertMatch(lint, /^✓ goodQueryNoLeak: no report$/m);
      assertMatch(lint, /^deno lint exited with 1: failed, as CI would$/m);
      const fixed = outputText(cellWith(notebook, 'lintScratch("--fix")'));
      assertMatch(fixed, /^- const conn = await pool\.acquire\(\);\n\+ await using conn = await pool\.acquire\(\);$/m);
      const tidied = fixed.split("The handler, tidied:")[1];
      assertMatch(tidied, /^ {4}await using conn = await pool\.acquire\(\);$/m);
      assertNotMatch(tidied, /release\(\)|simulate the bug/, "no redundant release(), no stale demo comment");
      assertMatch(fixed, /^deno lint on the fixed copy exited with 0$/m);
    });
  },
});

Deno.test({
  name: "every notebook's outputs land under their own cells in stock nbclient, which stops reading at idle",
  ...requirement("Jupyter (Debian nbclient + Deno kernel)", jupyterStatus().ok, JUPYTER_INSTALL),
  async fn() {
    // One reference run per notebook that reads each cell 0.5 s past its idle (what came late, and where every output
    // belongs), and two stock runs, which lose what comes late: 15 executions, ~40 s on two busy cores.
    const receiver = otlpReceiver(); // traces go somewhere that answers, and Jaeger "answers" there: links, no warnings
    const report = `${await Deno.makeTempDir({ prefix: "leak-lab-placement-" })}/placement.json`;
    const { code, stdout, stderr } = await new Deno.Command(JUPYTER_PYTHON, {
      args: [
        new URL("../tasks/output_placement.py", import.meta.url).pathname,
        "--runs",
        "2",
        "--settle",
        "0.5",
        "--json",
        report,
        ...NOTEBOOKS,
      ],
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, JAEGER_UI_URL: receiver.url },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output().finally(() => receiver.close());
    const text = new TextDecoder();
    const summary = text.decode(stdout);
    const counts: Record<string, { late_in_reference: number; late: unknown[]; runs: Record<string, number>[] }> = JSON
      .parse(await Deno.readTextFile(report));
    await Deno.remove(report.replace(/\/placement\.json$/, ""), { recursive: true });
    assertEquals(
      code,
      0,
      `${summary}\n${text.decode(stderr).split("\n").filter((l) => !/unstable/.test(l)).join("\n")}`,
    );
    assertEquals(Object.keys(counts).map((name) => name), NOTEBOOKS.map((path) => basename(path)));
    for (const [name, result] of Object.entries(counts)) {
      assertEquals(result.late, [], `${name}: nothing sent after its cell's idle`);
      assertEquals(result.runs.length, 2);
      for (const run of result.runs) {
        assertGreaterOrEqual(run.outputs, 5, `${name} has outputs to place`);
        assertEquals([run.lost, run.misplaced], [0, 0], `${name}: ${JSON.stringify(run)}`);
      }
    }
  },
});

Deno.test({
  name: "run_notebooks.py fails a notebook when a timer throws, through the cell guard the kernel would ignore",
  ...requirement("Jupyter (Debian nbclient + Deno kernel)", jupyterStatus().ok, JUPYTER_INSTALL),
  async fn() {
    // In test-artifacts/, at the notebooks' depth, so "../lib" resolves as it does for them.
    const dir = new URL("../test-artifacts/", import.meta.url).pathname;
    await Deno.mkdir(dir, { recursive: true });
    const path = `${dir}guard_check_${crypto.randomUUID().slice(0, 8)}.ipynb`;
    const outDir = await Deno.makeTempDir({ prefix: "leak-lab-guard-" });
    const code = (source: string) => ({ cell_type: "code", source, metadata: {}, outputs: [], execution_count: null });
    await Deno.writeTextFile(
      path,
      JSON.stringify({
        nbformat: 4,
        nbformat_minor: 5,
        metadata: { kernelspec: { name: "deno", display_name: "Deno", language: "typescript" } },
        cells: [
          code(
            'import { setupTelemetry } from "../lib/telemetry.ts";\nimport { notebookCells } from "../lib/notebook.ts";\n' +
              "const cell = notebookCells({ telemetry: await setupTelemetry({ otlpEndpoint: false }) });",
          ),
          code(
            'setTimeout(() => {\n  throw new Error("thrown in a timer");\n}, 0);\nawait new Promise((r) => setTimeout(r, 20));',
          ),
          code('await cell("the next wrapped cell", () => 1);'),
        ],
      }),
    );
    try {
      const run = await runNotebooks({ notebooks: [path], outDir, output: "piped" });
      assertEquals(run.code, 1, `the run fails:\n${run.stdout}\n${run.stderr}`);
      const executed: Notebook = JSON.parse(await Deno.readTextFile(`${outDir}/${basename(path)}`));
      const [, timer, next] = codeCells(executed);
      assertEquals(timer.outputs, [], "the kernel itself reports nothing for the throw in the timer");
      const error = next.outputs?.find((o) => o.output_type === "error");
      assertEquals(error?.ename, "EscapedErrorsError");
      assertMatch(error?.evalue ?? "", /Error: thrown in a timer/);
    } finally {
      await Deno.remove(path);
      await Deno.remove(outDir, { recursive: true });
    }
  },
});

function traceOf(cellText: string): string {
  const [, traceId] = /\/trace\/([0-9a-f]{32})/.exec(cellText) ?? [];
  assert(traceId, `no trace link in ${cellText.slice(0, 200)}`);
  return traceId;
}

/**
 * The workshop notebooks' cell wrapper: each wrapped cell runs in its own
 * trace (and in the pool's leak scope), then shows a one-line summary, a link
 * to that trace in Jaeger and, Jaeger or not, the trace drawn inline from the
 * in-memory spans.
 *
 * Display is injected, so the wrapper runs (and is tested) outside Jupyter;
 * in a Deno kernel it defaults to `Deno.jupyter.display`.
 *
 * @example
 * ```ts ignore
 * import { setupTelemetry } from "../lib/telemetry.ts";
 * import { notebookCells } from "../lib/notebook.ts";
 * const telemetry = await setupTelemetry();
 * const cell = notebookCells({ telemetry, pool });
 * const rows = await cell("read sensors", () => pool.query("SELECT * FROM sensors LIMIT 3"));
 * await cell.finish(); // in the last cell: fails the run if an error escaped any cell
 * ```
 *
 * @module
 */
import { spanTime } from "./util/span_time.ts";
import { type Attributes, context, ROOT_CONTEXT, type Span, SpanStatusCode, trace } from "@opentelemetry/api";
import { type ErrorGuard, settle, sharedErrorGuard } from "./notebook/jupyter_guard.ts";
import type { MimeBundle } from "./notebook/mime_bundle.ts";
import { show } from "./notebook/kernel_output.ts";
import { POOL_TRACE_HINTS, type PoolStats, type TracedPool } from "./pool.ts";
import {
  currentTelemetry,
  jaegerUiAnswers,
  jaegerUiUrl,
  type SpanView,
  type Telemetry,
  traceUrl,
  viewTrace,
  waterfallHtml,
  waterfallText,
} from "./telemetry.ts";
import { escapeHtml } from "./util/escape_html.ts";
import { redactUrl } from "./util/redact.ts";

export { ErrorGuard, EscapedErrorsError } from "./notebook/jupyter_guard.ts";
export { linkBundle, type MimeBundle } from "./notebook/mime_bundle.ts";
export { KERNEL_SEND_MS, print, show } from "./notebook/kernel_output.ts";
export {
  runSampledLeaks,
  sampledLeaksBundle,
  sampledLeaksHtml,
  type SampledLeaksOptions,
  type SampledLeaksRun,
  type SampledRequest,
} from "./notebook/sampling_demo.ts";
export { type TracePanel, tracesSideBySide } from "./notebook/side_by_side.ts";
export {
  type FigureOptions,
  plotBundle,
  PLOTLY_MIME,
  type PlotlyFigure,
  poolTimelineFigure,
  poolTimelinePlot,
  progressionFigure,
  progressionPlot,
  type ScatterTrace,
  tableBundle,
  type TableOptions,
  type TimelineOptions,
} from "./notebook/plots.ts";

/** Shows a bundle: `Deno.jupyter.display` in a kernel, anything else in tests. */
export type Display = (bundle: MimeBundle) => Promise<void>;

/** Options for {@linkcode notebookCells}. */
export interface NotebookCellsOptions {
  /** Where spans are recorded and flushed. @default currentTelemetry() (call setupTelemetry first) */
  telemetry?: Telemetry;
  /** Each cell runs in this pool's leak scope; its stats appear in the summary. @default none */
  pool?: TracedPool;
  /** Shows each cell's summary and trace. @default show */
  display?: Display;
  /** Catches errors that escape cells. @default sharedErrorGuard() */
  guard?: ErrorGuard;
  /** Most spans drawn in one cell's waterfall; the rest are in Jaeger. @default 200 */
  maxSpans?: number;
  /**
   * The Jaeger UI cells link to, or `false` for no links.
   * @default JAEGER_UI_URL (else http://localhost:16686) when spans are exported and its UI answers there
   */
  jaegerUi?: string | false;
}

/** Options for one wrapped cell. */
export interface CellOptions<T> {
  /** Adds to the summary line, e.g. `(rows) => \`${rows.length} rows\``. @default nothing */
  summary?: (result: T) => string;
  /** Set on the cell's root span. @default none */
  attributes?: Attributes;
  /**
   * How the waterfall opens: `"open"` opens the subtrees that leaked or failed; `"requests"` folds
   * each request into one marked row, for a cell whose table says the rest. @default "open"
   */
  trace?: "open" | "requests";
}

/** Runs a cell's work in its own trace; see {@linkcode notebookCells}. */
export interface NotebookCells {
  <T>(name: string, work: (span: Span) => T | Promise<T>, options?: CellOptions<T>): Promise<T>;
  /**
   * For the last cell: throws when an error escaped any cell since the last check.
   * @throws {EscapedErrorsError}
   */
  finish(): Promise<void>;
  /** The Jaeger UI this notebook links to, or undefined when none answers (probed once). */
  jaegerUi(): Promise<string | undefined>;
  readonly telemetry: Telemetry;
}

/**
 * Makes the cell wrapper for one notebook.
 *
 * A wrapped cell throws what its work threw (after showing the trace), and
 * also throws when an error escaped it or an earlier cell (an un-awaited
 * promise, a throw in a timer), which the Deno kernel would otherwise ignore.
 *
 * @throws {RangeError} for a bad option
 * @throws {Error} when no telemetry was given and setupTelemetry has not run
 */
export function notebookCells(options: NotebookCellsOptions = {}): NotebookCells {
  const telemetry = requireTelemetry(options.telemetry);
  const maxSpans = options.maxSpans ?? 200;
  if (!Number.isInteger(maxSpans) || maxSpans < 1) {
    throw new RangeError(
      `Cannot wrap notebook cells as 'maxSpans' must be a positive integer: current value is ${maxSpans}`,
    );
  }
  const display = options.display ?? show;
  if (typeof display !== "function") {
    throw new RangeError(`Cannot wrap notebook cells as 'display' must be a function: current value is ${display}`);
  }
  const { pool } = options;
  const guard = options.guard ?? sharedErrorGuard();
  // Probed once per notebook, at its first cell: a link to a UI that is not there is a dead link.
  const ui = options.jaegerUi || jaegerUiUrl();
  let jaeger: Promise<string | undefined> | undefined;
  const jaegerUi = () =>
    jaeger ??= options.jaegerUi === false || telemetry.exportingTo === undefined
      ? Promise.resolve(undefined)
      : jaegerUiAnswers(ui).then((answers) => answers ? ui : undefined);
  let hinted = false;

  async function cell<T>(name: string, work: (span: Span) => T | Promise<T>, cellOptions: CellOptions<T> = {}) {
    if (typeof name !== "string" || name.trim() === "") {
      throw new RangeError(`Cannot run a notebook cell as 'name' must be a non-empty string: current value is ${name}`);
    }
    guard.check(); // an earlier cell's escaped error fails this one before it starts
    const leakedBefore = pool?.stats().leaked ?? 0;
    const started = performance.now();
    let traceId = "";
    const body = (span: Span) => {
      traceId = span.spanContext().traceId;
      return work(span);
    };
    let outcome: { ok: true; value: T } | { ok: false; error: unknown };
    try {
      // ROOT_CONTEXT: every cell starts a new trace, whatever ran before it.
      const value = await context.with(
        ROOT_CONTEXT,
        () =>
          pool
            ? pool.scope(name, body, { attributes: cellOptions.attributes })
            : inRootSpan(telemetry, name, body, cellOptions.attributes),
      );
      outcome = { ok: true, value };
    } catch (error) {
      outcome = { ok: false, error };
    }
    const durationMs = performance.now() - started;
    await settle(); // let this cell's own stray rejections surface before checking
    let escaped: unknown;
    try {
      guard.check();
    } catch (error) {
      escaped = error;
    }
    await telemetry.flush();

    const stats = pool?.stats();
    const linkedUi = await jaegerUi();
    const hint = linkedUi || hinted ? undefined : noJaegerHint(telemetry.exportingTo, options.jaegerUi);
    hinted = true;
    await display(cellBundle({
      name,
      traceId,
      durationMs,
      views: viewTrace(telemetry.spans.trace(traceId)),
      maxSpans,
      jaegerUi: linkedUi,
      hint,
      foldRequests: cellOptions.trace === "requests",
      pool: stats ? poolLine(stats, stats.leaked - leakedBefore) : undefined,
      extra: outcome.ok && cellOptions.summary ? cellOptions.summary(outcome.value) : undefined,
      failure: outcome.ok ? undefined : { error: outcome.error },
    }));
    if (!outcome.ok) throw outcome.error;
    if (escaped) throw escaped;
    return outcome.value;
  }

  return Object.assign(cell, {
    telemetry,
    jaegerUi,
    async finish() {
      await settle();
      guard.check();
    },
  });
}

function requireTelemetry(given: Telemetry | undefined): Telemetry {
  const telemetry = given ?? currentTelemetry();
  if (!telemetry) {
    throw new Error(
      "Cannot wrap notebook cells before telemetry is set up: call `await setupTelemetry()` first, " +
        "or pass { telemetry }.",
    );
  }
  return telemetry;
}

async function inRootSpan<T>(
  telemetry: Telemetry,
  name: string,
  work: (span: Span) => T | Promise<T>,
  attributes: Attributes | undefined,
): Promise<T> {
  const span = telemetry.tracer.startSpan(name, { root: true, attributes, startTime: spanTime(performance.now()) });
  try {
    return await context.with(trace.setSpan(ROOT_CONTEXT, span), () => work(span));
  } catch (error) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: errorText(error) });
    throw error;
  } finally {
    span.end(spanTime(performance.now())); // the pool's clock: the cell's spans end within it
  }
}

/** What one cell's display shows. */
interface CellReport {
  name: string;
  traceId: string;
  durationMs: number;
  views: SpanView[];
  maxSpans: number;
  /** Where the trace link points; none when no Jaeger UI answers. */
  jaegerUi?: string;
  /** Why there is no link: said once per notebook, at its first cell. */
  hint?: string;
  foldRequests: boolean;
  pool?: string;
  extra?: string;
  /** Set when the work threw (whatever it threw, `undefined` included). */
  failure?: { error: unknown };
}

/** A cell's summary line, Jaeger link and waterfall, as text and as HTML. */
function cellBundle(report: CellReport): MimeBundle {
  const { name, traceId, views, maxSpans } = report;
  const headline = [
    `${report.failure ? "✖" : "✓"} cell "${name}"`,
    `${report.durationMs.toFixed(1)} ms`,
    `${views.length} spans`,
    ...(report.pool ? [report.pool] : []),
    ...(report.extra ? [report.extra] : []),
    ...(report.failure ? [`failed: ${errorText(report.failure.error)}`] : []),
  ].join(" · ");
  // No Jaeger UI, no link: a localhost:16686 link that opens nothing would send the learner looking for a bug.
  const url = report.jaegerUi ? traceUrl(traceId, report.jaegerUi) : undefined;
  const shown = views.slice(0, maxSpans);
  const more = views.length > shown.length ? `… ${views.length - shown.length} more spans: open the trace` : "";
  const jaegerText = url ? `Jaeger: ${url}` : `trace ${traceId}${report.hint ? ` · ${report.hint}` : ""}`;
  const jaegerHtml = url
    ? `<a href="${escapeHtml(url)}" target="_blank">Open this cell's trace in Jaeger</a> <code>${traceId}</code>`
    : `trace <code>${traceId}</code>${report.hint ? ` · ${escapeHtml(report.hint)}` : ""}`;
  const waterfall = {
    ...POOL_TRACE_HINTS,
    title: `Trace of cell "${name}"`,
    link: url,
    ...(report.foldRequests ? { expandUpTo: 0, foldFrom: 1 } : {}),
  };
  return {
    "text/plain": `${headline}\n${jaegerText}\n${waterfallText(shown, waterfall)}${more ? `\n${more}` : ""}`,
    "text/html": `<div class="leak-lab-cell" data-trace-id="${traceId}">` +
      `<div style="font-family:system-ui,sans-serif;font-size:13px;margin:2px 0">${escapeHtml(headline)}</div>` +
      `<div style="font-family:system-ui,sans-serif;font-size:12px">${jaegerHtml}</div>` +
      waterfallHtml(shown, waterfall) +
      (more ? `<p><em>${escapeHtml(more)}</em></p>` : "") +
      `</div>`,
  };
}

/** What the first cell says instead of a Jaeger link; later cells show only the trace id. */
function noJaegerHint(exportingTo: string | undefined, option: string | false | undefined): string {
  if (option === false) return "no Jaeger links in this notebook (jaegerUi: false); the trace is drawn below";
  if (exportingTo === undefined) {
    return "Jaeger: not exported (no OTLP endpoint was found when telemetry started); start Jaeger with " +
      "`docker compose up -d jaeger` and restart the kernel. Every trace is drawn below all the same";
  }
  return `Jaeger: no link (traces go to ${exportingTo}, but no Jaeger UI answers at ${
    redactUrl(option || jaegerUiUrl())
  }; set JAEGER_UI_URL). Every trace is drawn below all the same`;
}

function poolLine(stats: PoolStats, newlyLeaked: number): string {
  const leaked = newlyLeaked > 0 ? `${stats.leaked} leaked (+${newlyLeaked} in this cell)` : `${stats.leaked} leaked`;
  return `pool ${stats.active}/${stats.max} in use, ${stats.available} available, ${leaked}`;
}

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

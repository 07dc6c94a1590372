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
import { POOL_TRACE_HINTS, type PoolStats, type TracedPool } from "./pool.ts";
import {
  currentTelemetry,
  type SpanView,
  type Telemetry,
  traceUrl,
  viewTrace,
  waterfallHtml,
  waterfallText,
} from "./telemetry.ts";
import { escapeHtml } from "./util/escape_html.ts";

export { ErrorGuard, EscapedErrorsError } from "./notebook/jupyter_guard.ts";
export { linkBundle, type MimeBundle } from "./notebook/mime_bundle.ts";
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
}

/** Options for one wrapped cell. */
export interface CellOptions<T> {
  /** Adds to the summary line, e.g. `(rows) => \`${rows.length} rows\``. @default nothing */
  summary?: (result: T) => string;
  /** Set on the cell's root span. @default none */
  attributes?: Attributes;
}

/** Runs a cell's work in its own trace; see {@linkcode notebookCells}. */
export interface NotebookCells {
  <T>(name: string, work: (span: Span) => T | Promise<T>, options?: CellOptions<T>): Promise<T>;
  /**
   * For the last cell: throws when an error escaped any cell since the last check.
   * @throws {EscapedErrorsError}
   */
  finish(): Promise<void>;
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
    await display(cellBundle({
      name,
      traceId,
      durationMs,
      views: viewTrace(telemetry.spans.trace(traceId)),
      maxSpans,
      exported: telemetry.exportingTo !== undefined,
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
    async finish() {
      await settle();
      guard.check();
    },
  });
}

/**
 * Shows a bundle in the Deno kernel; outside one (a script, a test) prints
 * its `text/plain`. Awaited, because an un-awaited display can be lost.
 */
export async function show(bundle: MimeBundle): Promise<void> {
  const jupyter = kernelJupyter();
  if (jupyter) await jupyter.display(bundle, { raw: true });
  else console.log(bundle["text/plain"]);
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

/** `Deno.jupyter`, or undefined outside a kernel (where reading it throws). */
function kernelJupyter(): typeof Deno.jupyter | undefined {
  try {
    return Deno.jupyter;
  } catch {
    return undefined;
  }
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
  exported: boolean;
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
  // No Jaeger, no link: a localhost:16686 link that opens nothing would send the learner looking for a bug.
  const url = report.exported ? traceUrl(traceId) : undefined;
  const shown = views.slice(0, maxSpans);
  const more = views.length > shown.length ? `… ${views.length - shown.length} more spans: open the trace` : "";
  const jaegerText = url ? `Jaeger: ${url}` : `Jaeger: not exported (${NOT_EXPORTED}) · trace ${traceId}`;
  const jaegerHtml = url
    ? `<a href="${escapeHtml(url)}" target="_blank">Open this cell's trace in Jaeger</a> <code>${traceId}</code>`
    : `Jaeger: not exported (${escapeHtml(NOT_EXPORTED)}) · trace <code>${traceId}</code>`;
  const waterfall = { ...POOL_TRACE_HINTS, title: `Trace of cell "${name}"`, link: url };
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

/** What a cell says instead of a Jaeger link when nothing is exported. */
const NOT_EXPORTED = "no Jaeger was found when telemetry started; start one with `docker compose up -d jaeger` " +
  "and restart the kernel";

function poolLine(stats: PoolStats, newlyLeaked: number): string {
  const leaked = newlyLeaked > 0 ? `${stats.leaked} leaked (+${newlyLeaked} in this cell)` : `${stats.leaked} leaked`;
  return `pool ${stats.active}/${stats.max} in use, ${stats.available} available, ${leaked}`;
}

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

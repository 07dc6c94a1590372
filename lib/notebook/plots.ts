/**
 * Pool plots and tables for the notebooks, as Jupyter MIME bundles:
 *
 * - `application/vnd.plotly.v1+json`: the interactive chart (VS Code and
 *   JupyterLab render it with their own plotly),
 * - `text/html`: a light inline SVG (or table) wherever that renderer is
 *   missing, e.g. the HTML export,
 * - `text/plain`: a one-line summary for terminals and logs.
 *
 * Show one with `await show(bundle)` from `lib/notebook.ts`, which re-exports them all.
 *
 * @module
 */
import type { ProgressionRow } from "../demo/request_series.ts";
import type { PoolSample } from "../pool.ts";
import { escapeHtml } from "../util/escape_html.ts";
import type { MimeBundle } from "./mime_bundle.ts";
import { type PlotlyFigure, type ScatterTrace, svgChart } from "./svg_chart.ts";

export type { PlotlyFigure, ScatterTrace } from "./svg_chart.ts";

/** The plotly MIME type. */
export const PLOTLY_MIME = "application/vnd.plotly.v1+json";

const COLORS = {
  active: "#2563eb",
  available: "#16a34a",
  leaked: "#dc2626",
  waiting: "#9333ea",
  failed: "#ea580c",
  exhausted: "#7f1d1d",
};

/** Alert levels, mildest first: warning amber, critical red. */
const LEVEL_COLORS = ["#d97706", "#dc2626", "#6b7280"];

/**
 * How each count is drawn. `leaked` is a wide pale band, drawn first: while
 * leaks are all that is out, `active` equals it, and a thin line on a band
 * shows both (a dashed line on top of a solid one hid the solid one).
 */
function LINE_STYLE(name: keyof typeof COLORS): Pick<ScatterTrace, "line" | "opacity"> {
  return name === "leaked"
    ? { line: { color: COLORS.leaked, width: 9 }, opacity: 0.35 }
    : { line: { color: COLORS[name] } };
}

/** Options for the figure builders. */
export interface FigureOptions {
  /** Chart title. @default depends on the figure */
  title?: string;
}

/** Options for {@linkcode poolTimelineFigure}. */
export interface TimelineOptions extends FigureOptions {
  /**
   * Horizontal dashed lines, e.g. alert levels in connections; colours go amber, red, grey
   * unless given. @default none
   */
  thresholds?: { name: string; value: number; color?: string }[];
}

/**
 * The original demo's progression as a chart: active, available and leaked
 * after each request, with the failed requests marked.
 *
 * @throws {RangeError} when `rows` is empty
 * @example
 * ```ts
 * import { progressionFigure } from "./plots.ts";
 * const figure = progressionFigure([
 *   { request: 1, active: 0, available: 5, leaked: 0, outcome: "ok", traceId: "a".repeat(32) },
 *   { request: 2, active: 1, available: 4, leaked: 1, outcome: "query failed", traceId: "b".repeat(32) },
 * ]);
 * console.log(figure.data.map((s) => s.name)); // ["active", "available", "leaked", "query failed"]
 * ```
 */
export function progressionFigure(rows: readonly ProgressionRow[], options: FigureOptions = {}): PlotlyFigure {
  if (rows.length === 0) {
    throw new RangeError("Cannot plot a progression as 'rows' is empty: run at least one request first");
  }
  const x = rows.map((r) => r.request);
  const text = rows.map((r) => r.outcome);
  const line = (name: keyof typeof COLORS & keyof ProgressionRow): ScatterTrace => ({
    type: "scatter",
    mode: "lines+markers",
    name,
    x,
    y: rows.map((r) => r[name] as number),
    text,
    hovertemplate: `request %{x}: ${name} %{y} (%{text})<extra></extra>`,
    ...LINE_STYLE(name),
  });
  const marked = (outcome: ProgressionRow["outcome"], color: string): ScatterTrace[] => {
    const hit = rows.filter((r) => r.outcome === outcome);
    if (hit.length === 0) return [];
    return [{
      type: "scatter",
      mode: "markers",
      name: outcome,
      x: hit.map((r) => r.request),
      y: hit.map(() => 0),
      text: hit.map((r) => r.error ?? outcome),
      hovertemplate: `request %{x}: ${outcome}<extra></extra>`,
      marker: { color, symbol: "x", size: 10 },
    }];
  };
  return {
    data: [
      line("leaked"), // first, so the lines drawn after it stay visible on top of its band
      line("active"),
      line("available"),
      ...marked("query failed", COLORS.failed),
      ...marked("pool exhausted", COLORS.exhausted),
    ],
    layout: {
      title: { text: options.title ?? "Pool after each request" },
      xaxis: { title: { text: "request" }, dtick: 1 },
      yaxis: { title: { text: "connections" }, rangemode: "tozero", dtick: 1 },
      margin: { t: 48 },
    },
  };
}

/**
 * `pool.history()` as a step chart over time: active, leaked and waiting
 * after every lease change.
 *
 * @throws {RangeError} when `history` is empty
 */
export function poolTimelineFigure(history: readonly PoolSample[], options: TimelineOptions = {}): PlotlyFigure {
  if (history.length === 0) {
    throw new RangeError("Cannot plot a pool timeline as 'history' is empty: acquire a connection first");
  }
  const start = history[0].at;
  const x = history.map((s) => (s.at - start) / 1000);
  const text = history.map((s) => (s.leaseId === undefined ? s.change : `${s.change} #${s.leaseId}`));
  // leaked first: its wide band sits under active, which equals it while leaks are all that is out
  const series = (["leaked", "active", "waiting"] as const).map((name): ScatterTrace => {
    const style = LINE_STYLE(name);
    return {
      type: "scatter",
      mode: "lines",
      name,
      x,
      y: history.map((s) => s[name]),
      text,
      hovertemplate: `%{x:.3f} s: ${name} %{y} (%{text})<extra></extra>`,
      ...style,
      line: { ...style.line, shape: "hv" },
    };
  });
  const lastX = x[x.length - 1] || 0.001;
  const thresholds = (options.thresholds ?? []).map((t, i): ScatterTrace => ({
    type: "scatter",
    mode: "lines",
    name: t.name,
    x: [0, lastX],
    y: [t.value, t.value],
    hovertemplate: `${t.name}: %{y}<extra></extra>`,
    line: { color: t.color ?? LEVEL_COLORS[i % LEVEL_COLORS.length], dash: "dash", width: 1.5 },
  }));
  return {
    data: [...series, ...thresholds],
    layout: {
      title: { text: options.title ?? "Pool over time" },
      xaxis: { title: { text: "seconds since the first sample" } },
      yaxis: { title: { text: "connections" }, rangemode: "tozero", dtick: 1 },
      margin: { t: 48 },
    },
  };
}

/** A figure as a MIME bundle: plotly JSON, an inline SVG fallback, and `summary` as text. */
export function plotBundle(figure: PlotlyFigure, summary: string): MimeBundle {
  return {
    [PLOTLY_MIME]: figure,
    "text/html": `<div class="leak-lab-plot">${svgChart(figure)}</div>`,
    "text/plain": summary,
  };
}

/**
 * {@linkcode progressionFigure} as a bundle, summarised as
 * "12 requests: available 5 → 0, leaked 0 → 5; 5 query failed, 2 pool exhausted".
 *
 * @throws {RangeError} when `rows` is empty
 */
export function progressionPlot(rows: readonly ProgressionRow[], options: FigureOptions = {}): MimeBundle {
  const figure = progressionFigure(rows, options);
  const first = rows[0];
  const last = rows[rows.length - 1];
  const count = (outcome: ProgressionRow["outcome"]) => rows.filter((r) => r.outcome === outcome).length;
  const summary = `${rows.length} requests: available ${first.available} → ${last.available}, ` +
    `leaked ${first.leaked} → ${last.leaked}; ${count("ok")} ok, ${count("query failed")} query failed, ` +
    `${count("pool exhausted")} pool exhausted`;
  return plotBundle(figure, summary);
}

/**
 * {@linkcode poolTimelineFigure} as a bundle, summarised by its peaks.
 *
 * @throws {RangeError} when `history` is empty
 */
export function poolTimelinePlot(history: readonly PoolSample[], options: TimelineOptions = {}): MimeBundle {
  const figure = poolTimelineFigure(history, options);
  const peak = (key: "active" | "leaked" | "waiting") => Math.max(...history.map((s) => s[key]));
  const seconds = (history[history.length - 1].at - history[0].at) / 1000;
  const summary = `${history.length} pool changes over ${seconds.toFixed(2)} s: ` +
    `peak ${peak("active")}/${history[0].max} active, ${peak("leaked")} leaked, ${peak("waiting")} waiting`;
  return plotBundle(figure, summary);
}

/** Options for {@linkcode tableBundle}. */
export interface TableOptions<T extends object = Record<string, unknown>> {
  /** Columns, in order. @default every key of the rows, in first-seen order */
  columns?: (keyof T & string)[];
  /** Shown above the table. @default none */
  caption?: string;
}

/**
 * Rows of plain values as an HTML table and an aligned text table.
 *
 * @example
 * ```ts
 * import { tableBundle } from "./plots.ts";
 * console.log(tableBundle([{ request: 1, outcome: "ok" }])["text/plain"]);
 * // request  outcome
 * // 1        ok
 * ```
 */
export function tableBundle<T extends object>(rows: readonly T[], options: TableOptions<T> = {}): MimeBundle {
  const columns: string[] = options.columns ?? [...new Set(rows.flatMap((row) => Object.keys(row)))];
  const cells = rows.map((row) => columns.map((column) => cellText((row as Record<string, unknown>)[column])));
  const widths = columns.map((column, i) => Math.max(column.length, ...cells.map((r) => r[i].length)));
  const textLine = (values: string[]) => values.map((v, i) => v.padEnd(widths[i])).join("  ").trimEnd();
  const caption = options.caption ? `${options.caption}\n` : "";
  const plain = rows.length === 0
    ? `${caption}(no rows)`
    : caption + [textLine(columns), ...cells.map(textLine)].join("\n");
  const th = columns.map((c) => `<th style="text-align:left;padding:2px 10px">${escapeHtml(c)}</th>`).join("");
  const trs = cells.map((r) =>
    `<tr>${r.map((v) => `<td style="padding:2px 10px;font-family:monospace">${escapeHtml(v)}</td>`).join("")}</tr>`
  ).join("");
  const htmlCaption = options.caption
    ? `<caption style="text-align:left">${escapeHtml(options.caption)}</caption>`
    : "";
  return {
    "text/plain": plain,
    "text/html": `<table class="leak-lab-table" style="border-collapse:collapse;font-size:12px">${htmlCaption}` +
      `<thead><tr>${th}</tr></thead><tbody>${trs}</tbody></table>`,
  };
}

function cellText(value: unknown): string {
  if (value === undefined || value === null) return "";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

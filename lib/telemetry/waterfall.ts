/**
 * Draws one trace as a waterfall, like Jaeger's trace view, from the
 * in-memory spans: HTML for notebooks and the demo page, text for terminals
 * and logs. Traces stay visible with no Jaeger running.
 *
 * @module
 */
import { escapeHtml } from "../util/escape_html.ts";
import type { SpanView } from "./trace_view.ts";

/** Options for {@linkcode waterfallHtml}. */
export interface WaterfallOptions {
  /** Heading above the chart. @default "Trace <id>" */
  title?: string;
  /** Link for the heading, e.g. the Jaeger trace URL. @default none */
  link?: string;
}

const EVENT_STYLE: Record<string, string> = {
  connection_leaked: "color:#b91c1c;font-weight:600",
  query_error: "color:#b45309",
  connection_returned_safely: "color:#15803d",
};

/**
 * The trace as a self-contained HTML table (inline styles, no scripts).
 *
 * @example
 * ```ts
 * import { waterfallHtml } from "./waterfall.ts";
 * const html = waterfallHtml([{
 *   traceId: "a".repeat(32), spanId: "b".repeat(16), name: "get_connection", depth: 0,
 *   offsetMs: 0, durationMs: 1.5, status: "ok", attributes: {}, events: [],
 * }]);
 * console.log(html.includes("get_connection")); // true
 * ```
 */
export function waterfallHtml(spans: readonly SpanView[], options: WaterfallOptions = {}): string {
  if (spans.length === 0) return `<p><em>No spans recorded for this trace.</em></p>`;
  const total = Math.max(...spans.map((s) => s.offsetMs + s.durationMs), 0.001);
  const title = escapeHtml(options.title ?? `Trace ${spans[0].traceId}`);
  const heading = options.link ? `<a href="${escapeHtml(options.link)}" target="_blank">${title}</a>` : title;
  const rows = spans.map((span) => {
    const left = (span.offsetMs / total) * 100;
    const width = Math.max((span.durationMs / total) * 100, 0.5);
    const color = span.status === "error" ? "#dc2626" : "#2563eb";
    const events = span.events.map((event) => {
      const attributes = Object.entries(event.attributes)
        .filter(([key]) => key !== "code.stacktrace")
        .map(([key, value]) => `${escapeHtml(key)}=${escapeHtml(String(value))}`)
        .join(" ");
      const style = EVENT_STYLE[event.name] ?? "color:#374151";
      return `<div style="${style};font-size:11px">⚑ ${
        escapeHtml(event.name)
      } <span style="color:#6b7280">${attributes}</span></div>`;
    }).join("");
    const message = span.statusMessage ?? "error";
    const status = span.status === "error"
      ? ` <span style="color:#dc2626" title="${escapeHtml(message)}">✖ ${escapeHtml(truncate(message, 120))}</span>`
      : "";
    return `<tr data-span="${span.spanId}">` +
      // Long event attributes and error messages wrap inside the name column instead of running over the bars.
      `<td style="padding:2px 8px 2px ${4 + span.depth * 16}px;width:40%;overflow-wrap:anywhere;vertical-align:top">` +
      `${escapeHtml(span.name)}${status}${events}</td>` +
      `<td style="width:50%;vertical-align:top"><div style="position:relative;height:14px;background:#f3f4f6">` +
      `<div style="position:absolute;left:${left.toFixed(2)}%;width:${
        width.toFixed(2)
      }%;height:100%;background:${color}"></div>` +
      `</div></td>` +
      `<td style="padding:2px 8px;text-align:right;white-space:nowrap;vertical-align:top">${
        span.durationMs.toFixed(2)
      } ms</td></tr>`;
  }).join("");
  return `<div class="leak-lab-waterfall" style="font-family:system-ui,sans-serif;font-size:12px">` +
    `<div style="font-weight:600;margin:4px 0">${heading}</div>` +
    `<table style="border-collapse:collapse;width:100%">${rows}</table></div>`;
}

/**
 * The trace as indented text, one span per line with its events below.
 *
 * @example
 * ```ts
 * import { waterfallText } from "./waterfall.ts";
 * console.log(waterfallText([])); // "(no spans)"
 * ```
 */
export function waterfallText(spans: readonly SpanView[]): string {
  if (spans.length === 0) return "(no spans)";
  return spans.map((span) => {
    const indent = "  ".repeat(span.depth);
    const status = span.status === "error" ? `, ERROR: ${span.statusMessage ?? ""}` : "";
    const events = span.events.map((event) => `\n${indent}   └ event ${event.name}`).join("");
    return `${indent}├─ ${span.name} (${span.durationMs.toFixed(2)} ms${status})${events}`;
  }).join("\n");
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

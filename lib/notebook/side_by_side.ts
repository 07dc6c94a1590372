/**
 * Two or more traces next to each other, fully open: the leak and its fix,
 * with what the leak is missing (the `return_connection` that never ran)
 * marked where it should have been.
 *
 * @module
 */
import { POOL_TRACE_HINTS } from "../pool.ts";
import { type SpanView, waterfallHtml, waterfallText } from "../telemetry.ts";
import { escapeHtml } from "../util/escape_html.ts";
import type { MimeBundle } from "./mime_bundle.ts";

/** One column of {@linkcode tracesSideBySide}. */
export interface TracePanel {
  /** Heading of the column. */
  title: string;
  /** The trace, from `viewTrace(telemetry.spans.trace(traceId))`. */
  spans: SpanView[];
  /** One line under the heading. @default none */
  note?: string;
}

/**
 * The panels as columns (HTML) or one after another (text), each waterfall
 * open whatever its size, with the pool's hints (leaks, errors, the missing
 * `return_connection`).
 *
 * @throws {RangeError} when there are no panels
 * @example
 * ```ts ignore
 * await show(tracesSideBySide([
 *   { title: "The leak", spans: viewTrace(telemetry.spans.trace(leakTrace)) },
 *   { title: "The fix", spans: viewTrace(telemetry.spans.trace(fixTrace)) },
 * ]));
 * ```
 */
export function tracesSideBySide(panels: readonly TracePanel[]): MimeBundle {
  if (panels.length === 0) {
    throw new RangeError("Cannot draw traces side by side as 'panels' is empty: pass at least one trace");
  }
  const options = (title: string) => ({ ...POOL_TRACE_HINTS, title, expandUpTo: Number.MAX_SAFE_INTEGER });
  const text = panels.map((panel) =>
    [`── ${panel.title} ──`, ...(panel.note ? [panel.note] : []), waterfallText(panel.spans, options(panel.title))]
      .join("\n")
  ).join("\n\n");
  const columns = panels.map((panel) =>
    `<div style="min-width:0;border:1px solid #e5e7eb;border-radius:6px;padding:6px">` +
    (panel.note
      ? `<div style="font-family:system-ui,sans-serif;font-size:12px;color:#374151">${escapeHtml(panel.note)}</div>`
      : "") +
    waterfallHtml(panel.spans, options(panel.title)) + `</div>`
  ).join("");
  return {
    "text/plain": text,
    "text/html":
      `<div class="leak-lab-side-by-side" style="display:grid;grid-template-columns:repeat(${panels.length},` +
      `minmax(0,1fr));gap:12px">${columns}</div>`,
  };
}

/**
 * Draws one trace as a waterfall, like Jaeger's trace view, from the
 * in-memory spans: HTML for notebooks and the demo page, text for terminals
 * and logs. Traces stay visible with no Jaeger running.
 *
 * Both forms follow the same rules, so a big trace still reads at a glance:
 * children sit indented under their parent; a span's attributes and events
 * are folded behind its row (events are also drawn as marks on its bar);
 * and in a trace of more than `expandUpTo` spans only the root and the
 * subtrees that leaked or failed are open, highlighted, while every healthy
 * subtree folds into its one row (one row per request, in a cell that sent
 * twelve).
 *
 * @module
 */
import { escapeHtml } from "../util/escape_html.ts";
import type { SpanView } from "./trace_view.ts";

/** What an event means to a reader: drawn in red, amber, green or blue. */
export type EventKind = "leak" | "error" | "ok" | "info";

/** Which spans and events deserve attention, as the code that records them knows (`POOL_TRACE_HINTS`). */
export interface TraceHints {
  /** A span attribute that is `true` on spans that leaked. */
  leakAttribute?: string;
  /** Event name → what it means. */
  eventKinds?: Readonly<Record<string, EventKind>>;
  /**
   * The child a span that leaked should have had (`return_connection`): the
   * waterfall draws its absence as a marked, empty row.
   */
  leakMissingSpan?: string;
}

/** Options for {@linkcode waterfallHtml} and {@linkcode waterfallText}. */
export interface WaterfallOptions extends TraceHints {
  /** Heading above the chart (HTML only). @default "Trace <id>" */
  title?: string;
  /** Link for the heading, e.g. the Jaeger trace URL (HTML only). @default none */
  link?: string;
  /** Traces with at most this many spans are shown fully open. @default 12 */
  expandUpTo?: number;
  /**
   * Subtrees at this depth or deeper fold into their one row even when they
   * leaked or failed, marked with what is inside (one row per request). @default never
   */
  foldFrom?: number;
}

/** One span with its children, and what the folding rules need to know about it. */
interface Node {
  span: SpanView;
  children: Node[];
  /** This span leaked a connection (`leaklab.leak`) or ended in error. */
  flagged: "leak" | "error" | undefined;
  /** This span or one below it is flagged. */
  troubled: boolean;
  /** The worst flag in this subtree: a leak before an error. */
  worst: "leak" | "error" | undefined;
  /** Spans in this subtree, itself included. */
  size: number;
}

const HIDDEN_ATTRIBUTES = new Set(["code.stacktrace"]); // long, and already summarised by the acquire site
const KIND_COLOR: Record<EventKind, string> = { leak: "#b91c1c", error: "#b45309", ok: "#15803d", info: "#1d4ed8" };
const NEUTRAL = "#6b7280";

function eventColor(name: string, hints: TraceHints): string {
  const kind = hints.eventKinds?.[name];
  return kind ? KIND_COLOR[kind] : NEUTRAL;
}

/** Builds the span tree; spans whose parent is not in the trace become roots. */
function treeOf(spans: readonly SpanView[], hints: TraceHints): Node[] {
  const nodes = new Map<string, Node>();
  const roots: Node[] = [];
  for (const span of spans) {
    const leaked = (hints.leakAttribute !== undefined && span.attributes[hints.leakAttribute] === true) ||
      span.events.some((event) => hints.eventKinds?.[event.name] === "leak");
    const node: Node = {
      span,
      children: [],
      flagged: leaked ? "leak" : span.status === "error" ? "error" : undefined,
      troubled: false,
      worst: undefined,
      size: 1,
    };
    nodes.set(span.spanId, node);
    const parent = span.parentSpanId ? nodes.get(span.parentSpanId) : undefined;
    (parent ? parent.children : roots).push(node);
  }
  const settle = (node: Node): void => {
    for (const child of node.children) settle(child);
    node.troubled = node.flagged !== undefined || node.children.some((child) => child.troubled);
    const flags = [node.flagged, ...node.children.map((child) => child.worst)];
    node.worst = flags.includes("leak") ? "leak" : flags.includes("error") ? "error" : undefined;
    node.size = 1 + node.children.reduce((sum, child) => sum + child.size, 0);
  };
  roots.forEach(settle);
  return roots;
}

/** Whether a node's subtree is shown open: everything in a small trace, else the roots and troubled subtrees. */
function opens(node: Node, depth: number, small: boolean, foldFrom = Infinity): boolean {
  if (depth >= foldFrom) return false;
  return small || depth === 0 || node.troubled;
}

/** What a folded row says is inside it, beyond its own flag (a failed request that also leaked). */
function inside(node: Node): string {
  if (node.children.length === 0 || node.worst === node.flagged) return "";
  return node.worst === "leak" ? "⚑ leaked a connection" : node.worst === "error" ? "✖ failed" : "";
}

/** Whether a leaking span with children (the scope a lease outlived, not a detection mark) lacks the one it needed. */
function missing(node: Node, hints: TraceHints): boolean {
  return node.flagged === "leak" && hints.leakMissingSpan !== undefined && node.children.length > 0 &&
    !node.children.some((child) => child.span.name === hints.leakMissingSpan);
}

/** "request #3" for a span carrying `leaklab.request`, else its name. */
function label(span: SpanView): string {
  const request = span.attributes["leaklab.request"];
  return request === undefined ? span.name : `${span.name} #${request}`;
}

/** `key=value` pairs, without what the row already says: stacks, the leak tag, an `event` attribute naming the event. */
function attributeText(attributes: Record<string, unknown>, hints: TraceHints, eventName?: string): string {
  return Object.entries(attributes)
    .filter(([key, value]) =>
      !HIDDEN_ATTRIBUTES.has(key) && key !== hints.leakAttribute && !(key === "event" && value === eventName)
    )
    .map(([key, value]) => `${key}=${truncate(String(value), 160)}`)
    .join(" ");
}

/**
 * The trace as a self-contained HTML block (inline styles, no scripts):
 * rows are `<details>` elements, so a click folds or unfolds a subtree.
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
  const small = spans.length <= (options.expandUpTo ?? 12);
  const title = escapeHtml(options.title ?? `Trace ${spans[0].traceId}`);
  const heading = options.link ? `<a href="${escapeHtml(options.link)}" target="_blank">${title}</a>` : title;
  const pct = (ms: number) => `${((ms / total) * 100).toFixed(2)}%`;

  const row = (node: Node, depth: number): string => {
    const { span } = node;
    const tint = node.flagged === "leak" ? "#fee2e2" : node.flagged === "error" ? "#fef3c7" : "";
    const mark = node.flagged === "leak"
      ? ` <b style="color:#b91c1c">⚑ leak</b>`
      : span.status === "error"
      ? ` <span style="color:#b45309" title="${escapeHtml(span.statusMessage ?? "")}">✖ ${
        escapeHtml(truncate(span.statusMessage ?? "error", 90))
      }</span>`
      : "";
    const isOpen = opens(node, depth, small, options.foldFrom);
    const within = isOpen ? "" : inside(node);
    const folded = node.children.length > 0 && !isOpen
      ? `${
        within ? ` <b style="color:${node.worst === "leak" ? "#b91c1c" : "#b45309"}">${escapeHtml(within)}</b>` : ""
      } <span style="color:#6b7280">(+${node.size - 1} spans)</span>`
      : "";
    const marks = span.events.map((event) =>
      `<i title="${escapeHtml(`${event.name} at +${event.offsetMs.toFixed(2)} ms`)}" style="position:absolute;left:${
        pct(event.offsetMs)
      };top:-2px;width:3px;height:16px;background:${eventColor(event.name, options)}"></i>`
    ).join("");
    const bar = `<span style="position:relative;height:12px;background:#f3f4f6"><i style="position:absolute;left:${
      pct(span.offsetMs)
    };width:max(${pct(span.durationMs)},2px);height:100%;background:${
      span.status === "error" ? "#dc2626" : "#2563eb"
    }"></i>${marks}</span>`;
    const summary = `<summary style="display:grid;grid-template-columns:minmax(0,42%) 1fr 72px;gap:6px;` +
      `align-items:center;padding:1px 4px 1px ${4 + depth * 14}px;cursor:pointer${
        tint ? `;background:${tint}` : ""
      }">` +
      `<span style="overflow-wrap:anywhere">${escapeHtml(label(span))}${mark}${folded}</span>${bar}` +
      `<span style="text-align:right">${span.durationMs.toFixed(2)} ms</span></summary>`;
    // Events read as one line each; the span's own attributes stay folded even in an open row.
    const attributes = attributeText(span.attributes, options);
    const details = [
      ...span.events.map((event) =>
        `<div style="color:${eventColor(event.name, options)}">⚑ ${escapeHtml(event.name)} <span ` +
        `style="color:#6b7280">+${event.offsetMs.toFixed(2)} ms ${
          escapeHtml(attributeText(event.attributes, options, event.name))
        }</span></div>`
      ),
      ...(attributes
        ? [
          `<details style="color:#6b7280"><summary style="cursor:pointer">attributes</summary>${
            escapeHtml(attributes)
          }</details>`,
        ]
        : []),
    ];
    const body = details.length
      ? `<div style="padding:0 4px 2px ${22 + depth * 14}px;font-size:11px;overflow-wrap:anywhere">${
        details.join("")
      }</div>`
      : "";
    const ghost = isOpen && missing(node, options)
      ? `<div data-missing="${escapeHtml(options.leakMissingSpan!)}" style="margin:1px 4px 1px ${
        18 + depth * 14
      }px;padding:1px 4px;border:1px dashed #b91c1c;color:#b91c1c">✗ ${
        escapeHtml(options.leakMissingSpan!)
      }: missing, the connection never came back</div>`
      : "";
    const children = node.children.map((child) => row(child, depth + 1)).join("") + ghost;
    const open = isOpen && (node.children.length > 0 || node.flagged !== undefined);
    return `<details${open ? " open" : ""} data-span="${span.spanId}">${summary}${body}${children}</details>`;
  };

  return `<div class="leak-lab-waterfall" style="font-family:system-ui,sans-serif;font-size:12px">` +
    `<div style="font-weight:600;margin:4px 0">${heading}</div>` +
    treeOf(spans, options).map((root) => row(root, 0)).join("") + `</div>`;
}

/**
 * The trace as indented text, by the same rules: a healthy subtree of a
 * large trace folds into one line; leaking and failing spans show their
 * events and status.
 *
 * @example
 * ```ts
 * import { waterfallText } from "./waterfall.ts";
 * console.log(waterfallText([])); // "(no spans)"
 * ```
 */
export function waterfallText(spans: readonly SpanView[], options: WaterfallOptions = {}): string {
  if (spans.length === 0) return "(no spans)";
  const small = spans.length <= (options.expandUpTo ?? 12);
  const lines: string[] = [];
  const walk = (node: Node, depth: number, prefix: string, last: boolean): void => {
    const { span } = node;
    const branch = depth === 0 ? "" : last ? "└─ " : "├─ ";
    const open = opens(node, depth, small, options.foldFrom);
    const within = open ? "" : inside(node);
    const own = node.flagged === "leak"
      ? "  ⚑ LEAK"
      : span.status === "error"
      ? `  ✖ ${truncate(span.statusMessage ?? "error", within ? 50 : 90)}`
      : "";
    const status = `${within ? `  ${within}` : ""}${own}`;
    const folded = node.children.length > 0 && !open ? `  (+${node.size - 1} spans)` : "";
    lines.push(`${prefix}${branch}${label(span)} (${span.durationMs.toFixed(2)} ms)${status}${folded}`);
    const inner = depth === 0 ? "" : `${prefix}${last ? "   " : "│  "}`;
    if (node.flagged || small) {
      for (const event of span.events) {
        const attributes = node.flagged ? ` ${attributeText(event.attributes, options, event.name)}` : "";
        lines.push(`${inner}${node.children.length && open ? "│" : " "}  ⚑ ${event.name}${attributes}`.trimEnd());
      }
    }
    if (!open) return;
    const ghost = missing(node, options);
    node.children.forEach((child, i) => walk(child, depth + 1, inner, !ghost && i === node.children.length - 1));
    if (ghost) lines.push(`${inner}└─ ✗ ${options.leakMissingSpan}  MISSING: the connection never came back`);
  };
  for (const root of treeOf(spans, options)) walk(root, 0, "", true);
  return lines.join("\n");
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

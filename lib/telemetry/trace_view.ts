/**
 * Plain-JSON views of recorded spans: one trace as a list of spans with
 * offsets (for waterfalls), and recent traces as one-line summaries.
 * The demo page and the notebooks draw from these, so both show the same
 * thing Jaeger would.
 *
 * @module
 */
import { SpanStatusCode } from "@opentelemetry/api";
import type { ReadableSpan } from "../util/public_types.ts";
import { hrTimeToMilliseconds } from "@opentelemetry/core";

/** One span, ready for JSON. Times are milliseconds from the trace's start. */
export interface SpanView {
  /** The trace's id, 32 hex digits. */
  traceId: string;
  /** The span's id, 16 hex digits. */
  spanId: string;
  /** The parent's id; undefined for a root. */
  parentSpanId?: string;
  /** The span's name. */
  name: string;
  /** Nesting depth inside this trace's recorded spans (root = 0). */
  depth: number;
  /** When it started, from the trace's start. */
  offsetMs: number;
  /** How long it ran. */
  durationMs: number;
  /** Its status code. */
  status: "ok" | "error" | "unset";
  /** Its status message, if any. */
  statusMessage?: string;
  /** Its attributes. */
  attributes: Record<string, unknown>;
  /** Its events, each with its time from the trace's start. */
  events: { name: string; offsetMs: number; attributes: Record<string, unknown> }[];
}

/** One trace in a list of recent traces. */
export interface TraceSummary {
  /** The trace's id, 32 hex digits. */
  traceId: string;
  /** The name of its root span (or earliest span, when the root is not held). */
  rootName: string;
  /** "error" when any span failed. */
  status: "ok" | "error" | "unset";
  /** From the first span's start to the last span's end. */
  durationMs: number;
  /** When it started, as an ISO date. */
  startedAt: string;
  /** How many of its spans are held. */
  spanCount: number;
}

const STATUS = { [SpanStatusCode.OK]: "ok", [SpanStatusCode.ERROR]: "error", [SpanStatusCode.UNSET]: "unset" } as const;

/**
 * Lays out one trace's spans parent before child, each with its depth and
 * its start relative to the earliest span.
 */
export function viewTrace(spans: readonly ReadableSpan[]): SpanView[] {
  if (spans.length === 0) return [];
  const start = Math.min(...spans.map((s) => hrTimeToMilliseconds(s.startTime)));
  const ids = new Set(spans.map((s) => s.spanContext().spanId));
  const children = new Map<string | undefined, ReadableSpan[]>();
  for (const span of spans) {
    const parent = span.parentSpanContext?.spanId;
    const key = parent && ids.has(parent) ? parent : undefined;
    children.set(key, [...(children.get(key) ?? []), span]);
  }
  const out: SpanView[] = [];
  const visit = (parent: string | undefined, depth: number) => {
    const level = (children.get(parent) ?? []).sort((a, b) =>
      hrTimeToMilliseconds(a.startTime) - hrTimeToMilliseconds(b.startTime)
    );
    for (const span of level) {
      const { traceId, spanId } = span.spanContext();
      out.push({
        traceId,
        spanId,
        parentSpanId: span.parentSpanContext?.spanId,
        name: span.name,
        depth,
        offsetMs: round(hrTimeToMilliseconds(span.startTime) - start),
        durationMs: round(hrTimeToMilliseconds(span.duration)),
        status: STATUS[span.status.code],
        ...(span.status.message ? { statusMessage: span.status.message } : {}),
        attributes: { ...span.attributes },
        events: span.events.map((event) => ({
          name: event.name,
          offsetMs: round(hrTimeToMilliseconds(event.time) - start),
          attributes: { ...event.attributes },
        })),
      });
      visit(spanId, depth + 1);
    }
  };
  visit(undefined, 0);
  return out;
}

/** Summarises the traces among `spans`, newest first, at most `limit`. */
export function summarizeTraces(spans: readonly ReadableSpan[], limit = 50): TraceSummary[] {
  const byTrace = new Map<string, ReadableSpan[]>();
  for (const span of spans) {
    const id = span.spanContext().traceId;
    const group = byTrace.get(id);
    if (group) group.push(span);
    else byTrace.set(id, [span]);
  }
  const summaries: (TraceSummary & { startMs: number })[] = [];
  for (const [traceId, group] of byTrace) {
    const ids = new Set(group.map((s) => s.spanContext().spanId));
    const root = group.find((s) => !s.parentSpanContext || !ids.has(s.parentSpanContext.spanId)) ?? group[0];
    const startMs = Math.min(...group.map((s) => hrTimeToMilliseconds(s.startTime)));
    const endMs = Math.max(...group.map((s) => hrTimeToMilliseconds(s.endTime)));
    summaries.push({
      traceId,
      rootName: root.name,
      status: group.some((s) => s.status.code === SpanStatusCode.ERROR) ? "error" : STATUS[root.status.code],
      durationMs: round(endMs - startMs),
      startedAt: new Date(startMs).toISOString(),
      spanCount: group.length,
      startMs,
    });
  }
  return summaries
    .sort((a, b) => b.startMs - a.startMs)
    .slice(0, limit)
    .map(({ startMs: _startMs, ...summary }) => summary);
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/**
 * Keeps the most recent ended spans in memory, so notebooks, the demo page
 * and tests can show a trace with no Jaeger running.
 *
 * It is a span processor rather than an exporter: ending a span only pushes a
 * reference into a fixed ring, with no batching, copying or timers on the
 * request path. The oldest spans fall out when the ring is full.
 *
 * @example
 * ```ts
 * import { BasicTracerProvider } from "@opentelemetry/sdk-trace-base";
 * import { RecentSpans } from "./recent_spans.ts";
 * const recent = new RecentSpans(100);
 * const provider = new BasicTracerProvider({ spanProcessors: [recent] });
 * provider.getTracer("example").startSpan("hello").end();
 * console.log(recent.spans().map((s) => s.name)); // ["hello"]
 * ```
 */
import type { Context } from "@opentelemetry/api";
import type { ReadableSpan, Span, SpanProcessor } from "@opentelemetry/sdk-trace-base";
import { Ring } from "../util/ring.ts";

export class RecentSpans implements SpanProcessor {
  readonly #ring: Ring<ReadableSpan>;

  /** @param capacity how many ended spans to keep; must be a positive integer */
  constructor(capacity = 500) {
    this.#ring = new Ring(capacity);
  }

  /** Spans held now, oldest first. */
  spans(): ReadableSpan[] {
    return this.#ring.toArray();
  }

  /** The held spans of one trace, oldest first. */
  trace(traceId: string): ReadableSpan[] {
    return this.#ring.toArray().filter((span) => span.spanContext().traceId === traceId);
  }

  /** Forgets every span. */
  clear(): void {
    this.#ring.clear();
  }

  onStart(_span: Span, _parentContext: Context): void {}

  onEnd(span: ReadableSpan): void {
    this.#ring.push(span);
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

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
 *
 * @module
 */
import type { Context, ReadableSpan, SdkSpan, SpanProcessor } from "../util/public_types.ts";
import { Ring } from "../util/ring.ts";

/** A span processor that keeps the last `capacity` ended spans in a ring. */
export class RecentSpans implements SpanProcessor {
  readonly #ring: Ring<ReadableSpan>;

  /**
   * Keeps up to `capacity` spans.
   *
   * @param capacity how many ended spans to keep; must be a positive integer
   */
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

  /** Nothing to do: only ended spans are kept. */
  onStart(_span: SdkSpan, _parentContext: Context): void {}

  /** Keeps the span, dropping the oldest when full. */
  onEnd(span: ReadableSpan): void {
    this.#ring.push(span);
  }

  /** Nothing is buffered: resolves at once. */
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  /** Nothing to release: resolves at once. */
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

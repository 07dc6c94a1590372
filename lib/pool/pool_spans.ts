/**
 * How a pool starts its spans. While the tracer records nothing (no
 * OpenTelemetry SDK installed), one shared non-recording span stands in and
 * the tracer is asked again only every 64th time, so a pool without an SDK
 * pays nothing for its spans and starts tracing within 64 spans of one
 * being installed.
 *
 * @example
 * ```ts
 * import { trace } from "@opentelemetry/api";
 * import { PoolSpans } from "./pool_spans.ts";
 * const spans = new PoolSpans(trace.getTracer("example")); // no SDK here: the no-op tracer
 * const span = spans.start("get_connection", performance.now());
 * console.log(span.isRecording()); // false
 * span.end();
 * ```
 *
 * @module
 */
import {
  type Context,
  INVALID_SPAN_CONTEXT,
  type Span,
  type SpanKind,
  type SpanOptions,
  trace,
  type Tracer,
} from "@opentelemetry/api";
import { spanTime } from "./span_time.ts";

/** Handed out while nothing is recorded: one object, never ended, never exported. */
const NOT_RECORDING: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/** Starts spans for one pool, skipping the tracer while it records nothing. */
export class PoolSpans {
  readonly #tracer: Tracer;
  /** Whether the last span was recorded. */
  #recording = true;
  #sinceProbe = 0;

  constructor(tracer: Tracer) {
    this.#tracer = tracer;
  }

  /** A pool span starting at `now`, a `performance.now()` reading; its parent is the active context. */
  start(name: string, now: number, kind?: SpanKind): Span {
    if (this.#off()) return NOT_RECORDING;
    // Start times only for recorded spans: a sampled-out span would convert the clock reading for nothing.
    return this.#recorded(
      this.#tracer.startSpan(name, this.#recording ? { startTime: spanTime(now), kind } : { kind }),
    );
  }

  /** A span with the caller's options (a scope's, a reset's), under `parent` when given. */
  startWith(name: string, options: SpanOptions, parent?: Context): Span {
    if (this.#off()) return NOT_RECORDING;
    return this.#recorded(this.#tracer.startSpan(name, options, parent));
  }

  #recorded(span: Span): Span {
    this.#recording = span.isRecording();
    return span;
  }

  /** True while spans are not recorded, except on every 64th call, which asks the tracer again. */
  #off(): boolean {
    return !this.#recording && (++this.#sinceProbe & 63) !== 0;
  }
}

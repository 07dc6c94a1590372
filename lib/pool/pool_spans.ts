/**
 * How a pool starts its spans, on one clock, and how it tells "no
 * OpenTelemetry SDK is installed" from "the sampler said no".
 *
 * They look alike (both give a span that records nothing) but mean opposite
 * things. An SDK's unsampled span carries a trace id and a span id of its own:
 * it must become the parent of what follows, so the request's trace stays
 * whole and its children stay unsampled too. The API's no-op tracer hands
 * back its parent's context, or an invalid one: nothing is recorded anywhere,
 * so the pool skips the tracer and asks it again only every 64th time, paying
 * nothing for its spans and starting to trace within 64 spans of an SDK being
 * installed.
 *
 * Every span the pool starts or ends gets an explicit time from
 * `performance.now()` (see `span_time.ts`), so its spans nest in time with
 * each other and with the scopes around them.
 *
 * @example
 * ```ts
 * import { trace } from "@opentelemetry/api";
 * import { PoolSpans } from "./pool_spans.ts";
 * const spans = new PoolSpans(trace.getTracer("example")); // no SDK here: the no-op tracer
 * const span = spans.start("get_connection", performance.now());
 * console.log(span.isRecording(), spans.skipping()); // false true
 * span.end();
 * ```
 *
 * @module
 */
import {
  type Context,
  context,
  INVALID_SPAN_CONTEXT,
  type Span,
  type SpanKind,
  type SpanOptions,
  trace,
  type Tracer,
} from "@opentelemetry/api";
import { spanTime } from "../util/span_time.ts";

/** Handed out while no SDK is installed: one object, never ended, never exported, never made a parent. */
export const NOT_RECORDING: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/** Starts spans for one pool, skipping the tracer while no SDK is behind it. */
export class PoolSpans {
  readonly #tracer: Tracer;
  #off = false;
  #sinceProbe = 0;

  constructor(tracer: Tracer) {
    this.#tracer = tracer;
  }

  /**
   * True while the tracer is the API's no-op one: no SDK records anything, so
   * no span is worth starting. Every 64th call answers false, so the tracer
   * is asked again.
   */
  skipping(): boolean {
    return this.#off && (++this.#sinceProbe & 63) !== 0;
  }

  /** A pool span starting at `now`, a `performance.now()` reading, under `parent` (the active context). */
  start(name: string, now: number, kind?: SpanKind, parent: Context = context.active()): Span {
    if (this.skipping()) return NOT_RECORDING;
    return this.#noted(this.#tracer.startSpan(name, { startTime: spanTime(now), kind }, parent), parent);
  }

  /**
   * A span with the caller's options (a scope's, a reset's), starting at
   * `now`, under `parent`; undefined while no SDK is installed, so that no
   * stand-in ever becomes a parent.
   */
  startWith(name: string, options: SpanOptions, now: number, parent: Context = context.active()): Span | undefined {
    if (this.skipping()) return undefined;
    const span = this.#noted(this.#tracer.startSpan(name, { ...options, startTime: spanTime(now) }, parent), parent);
    return this.#off ? undefined : span;
  }

  #noted(span: Span, parent: Context): Span {
    if (span.isRecording()) {
      this.#off = false;
    } else {
      // An SDK gives an unsampled span a span id of its own; the no-op tracer repeats its parent's, or none.
      const own = span.spanContext();
      this.#off = !trace.isSpanContextValid(own) || own.spanId === trace.getSpanContext(parent)?.spanId;
    }
    return span;
  }
}

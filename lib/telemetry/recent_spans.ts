/**
 * Keeps the most recent ended spans in memory, so notebooks, the demo page
 * and tests can show a trace with no Jaeger running.
 *
 * It is a span processor rather than an exporter: ending a span only pushes a
 * reference into a fixed ring, with no batching, copying or timers on the
 * request path. The oldest spans fall out when the ring is full.
 *
 * Requests that change nothing — refused (4xx), unknown, or reads (GET, HEAD)
 * answered without error — have a small ring of their own: any web page can
 * send a local service thousands of those (600 `<img src>` from another site
 * used to push a leak's trace out), and they only push each other out.
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
import { SpanKind } from "@opentelemetry/api";
import { ATTR_HTTP_REQUEST_METHOD, ATTR_HTTP_RESPONSE_STATUS_CODE } from "@opentelemetry/semantic-conventions";
import type { Context, ReadableSpan, SdkSpan, SpanProcessor } from "../util/public_types.ts";
import { Ring } from "../util/ring.ts";

/** Options for {@linkcode RecentSpans}. */
export interface RecentSpansOptions {
  /** How many routine request spans to keep, apart from the rest. @default 100 */
  routineCapacity?: number;
  /** Which spans are routine. @default isRoutineRequest */
  isRoutine?: (span: ReadableSpan) => boolean;
}

const READS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * True for the HTTP server span of a request that changed nothing and went
 * right or was refused: a 4xx, or a read answered below 500, with no event
 * (a leak or an exception is always worth keeping).
 */
export function isRoutineRequest(span: ReadableSpan): boolean {
  if (span.kind !== SpanKind.SERVER || span.events.length > 0) return false;
  const status = span.attributes[ATTR_HTTP_RESPONSE_STATUS_CODE];
  if (typeof status !== "number" || status >= 500) return false;
  return status >= 400 || READS.has(String(span.attributes[ATTR_HTTP_REQUEST_METHOD]));
}

/** A held span and when it ended, counted: the SDK's end times are not monotonic across spans. */
type Held = { readonly order: number; readonly span: ReadableSpan };

/** The most recent ended spans, routine request spans in a ring of their own (see the module's comment). */
export class RecentSpans implements SpanProcessor {
  readonly #ring: Ring<Held>;
  readonly #routine: Ring<Held>;
  readonly #isRoutine: (span: ReadableSpan) => boolean;
  #ended = 0;

  /**
   * Two empty rings.
   *
   * @param capacity how many ended spans to keep, routine ones aside; must be a positive integer
   * @param options the routine spans' own ring
   */
  constructor(capacity = 500, { routineCapacity = 100, isRoutine = isRoutineRequest }: RecentSpansOptions = {}) {
    this.#ring = new Ring(capacity);
    this.#routine = new Ring(routineCapacity);
    this.#isRoutine = isRoutine;
  }

  /** Spans held now, in the order they ended. */
  spans(): ReadableSpan[] {
    return merge(this.#ring.toArray(), this.#routine.toArray());
  }

  /** The held spans of one trace, oldest first. */
  trace(traceId: string): ReadableSpan[] {
    return this.spans().filter((span) => span.spanContext().traceId === traceId);
  }

  /** Forgets every span. */
  clear(): void {
    this.#ring.clear();
    this.#routine.clear();
  }

  /** Nothing to do: only ended spans are kept. */
  onStart(_span: SdkSpan, _parentContext: Context): void {}

  /** Keeps the span, dropping the oldest when full. */
  onEnd(span: ReadableSpan): void {
    (this.#isRoutine(span) ? this.#routine : this.#ring).push({ order: this.#ended++, span });
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

/** Two lists, each in the order its spans ended, as one. */
function merge(a: Held[], b: Held[]): ReadableSpan[] {
  const out: ReadableSpan[] = new Array(a.length + b.length);
  let i = 0;
  let j = 0;
  for (let k = 0; k < out.length; k++) {
    out[k] = j >= b.length || (i < a.length && a[i].order < b[j].order) ? a[i++].span : b[j++].span;
  }
  return out;
}

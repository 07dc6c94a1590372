/**
 * A sampler wrapper that keeps every span the pool marks as a leak or an
 * exhaustion, and leaves every other decision to the sampler it wraps.
 *
 * The pool starts those spans with `leaklab.leak=true` (or
 * `leaklab.exhausted=true`) among their start attributes, which is what a
 * sampler sees, under a parent context marked sampled. A parent-based sampler
 * keeps them already; `keepLeaks()` makes any other (a bare trace-id ratio,
 * always-off, a vendor's) keep them too. `setupTelemetry()` wraps its sampler
 * so; with an SDK of your own, wrap yours.
 *
 * @example
 * ```ts
 * import { BasicTracerProvider, ParentBasedSampler, TraceIdRatioBasedSampler } from "@opentelemetry/sdk-trace-base";
 * import { keepLeaks } from "./keep_leaks.ts";
 * const sampler = keepLeaks(new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(0.01) }));
 * const provider = new BasicTracerProvider({ sampler });
 * console.log(String(sampler)); // KeepLeaks{ParentBased{root=TraceIdRatioBased{0.01}, …}}
 * await provider.shutdown();
 * ```
 *
 * @module
 */
import { SamplingDecision } from "@opentelemetry/sdk-trace-base";
import type { Attributes, Context, Link, Sampler, SamplingResult, SpanKind } from "../util/public_types.ts";
import { EXHAUSTED_ATTRIBUTE, LEAK_ATTRIBUTE } from "./trace_names.ts";

/** The SDK's sampler interface, which `keepLeaks()` takes and returns. */
export type { Sampler };

const KEEP: SamplingResult = Object.freeze({ decision: SamplingDecision.RECORD_AND_SAMPLED });

/** `sampler`, except that a span starting with `leaklab.leak=true` or `leaklab.exhausted=true` is always kept. */
export function keepLeaks(sampler: Sampler): Sampler {
  return {
    shouldSample(
      context: Context,
      traceId: string,
      spanName: string,
      spanKind: SpanKind,
      attributes: Attributes,
      links: Link[],
    ): SamplingResult {
      if (attributes?.[LEAK_ATTRIBUTE] === true || attributes?.[EXHAUSTED_ATTRIBUTE] === true) return KEEP;
      return sampler.shouldSample(context, traceId, spanName, spanKind, attributes, links);
    },
    toString: () => `KeepLeaks{${sampler.toString()}}`,
  };
}

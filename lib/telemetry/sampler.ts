/**
 * Which sampler `setupTelemetry()` gives its tracer provider: the caller's,
 * else the one the standard `OTEL_TRACES_SAMPLER` / `OTEL_TRACES_SAMPLER_ARG`
 * variables name (read by the SDK's own `buildSamplerFromEnv`, so every value
 * the SDK knows works and nothing is parsed twice), else Leak Lab's default,
 * which records every span so the in-memory views never miss one. The first
 * two are wrapped in the pool's `keepLeaks()`: whatever the sampler, a leak is
 * never sampled away.
 *
 * @module
 */
import { type Context, diag, DiagLogLevel, trace, TraceFlags } from "@opentelemetry/api";
import { type Sampler, SamplingDecision, type SamplingResult } from "@opentelemetry/sdk-trace-base";
import { buildSamplerFromEnv } from "@opentelemetry/sdk-trace-base/build/src/config.js";
import { keepLeaks } from "../pool/keep_leaks.ts";

/** The sampler to use and where it came from, for the start-up line. */
export interface ChosenSampler {
  sampler: Sampler;
  /** `"option"`, `"env"` or `"default"`. */
  source: "option" | "env" | "default";
}

/**
 * @param option the `sampler` option of `setupTelemetry()`, if given
 * @param log receives what the SDK says about a bad `OTEL_TRACES_SAMPLER` or `OTEL_TRACES_SAMPLER_ARG`
 */
export function chooseSampler(option: Sampler | undefined, log: (message: string) => void): ChosenSampler {
  if (option) return { sampler: keepLeaks(option), source: "option" };
  if (!Deno.env.get("OTEL_TRACES_SAMPLER")?.trim()) return { sampler: KEEP_LOCALLY, source: "default" };
  return { sampler: keepLeaks(samplerFromEnvironment(log)), source: "env" };
}

/**
 * The SDK's sampler for the `OTEL_TRACES_SAMPLER*` variables. The SDK reports
 * a value it does not know (and falls back to `parentbased_always_on`) only
 * through `diag`, which nobody listens to by default: its words are passed on
 * to `log`, so a typo in a variable is seen, not silently ignored.
 */
function samplerFromEnvironment(log: (message: string) => void): Sampler {
  const said: string[] = [];
  const hear = (message: string) => said.push(message);
  // The spec makes the values case-insensitive; the SDK compares them as they are, so it is given them trimmed and
  // in lower case for the call, and the environment is put back as it was.
  const given = {
    OTEL_TRACES_SAMPLER: Deno.env.get("OTEL_TRACES_SAMPLER"),
    OTEL_TRACES_SAMPLER_ARG: Deno.env.get("OTEL_TRACES_SAMPLER_ARG"),
  };
  if (given.OTEL_TRACES_SAMPLER) Deno.env.set("OTEL_TRACES_SAMPLER", given.OTEL_TRACES_SAMPLER.trim().toLowerCase());
  if (given.OTEL_TRACES_SAMPLER_ARG) Deno.env.set("OTEL_TRACES_SAMPLER_ARG", given.OTEL_TRACES_SAMPLER_ARG.trim());
  diag.setLogger({ error: hear, warn: hear, info() {}, debug() {}, verbose() {} }, DiagLogLevel.WARN);
  try {
    return buildSamplerFromEnv();
  } finally {
    diag.disable();
    for (const [key, value] of Object.entries(given)) if (value !== undefined) Deno.env.set(key, value);
    for (const message of said) log(`OpenTelemetry sampler: ${message}`);
  }
}

const SAMPLED: SamplingResult = Object.freeze({ decision: SamplingDecision.RECORD_AND_SAMPLED });
const RECORDED_ONLY: SamplingResult = Object.freeze({ decision: SamplingDecision.RECORD });

/**
 * Every span is recorded, so the in-memory traces (notebooks, the demo page,
 * leak reports) never miss a leak; export follows the caller's choice. A
 * request whose `traceparent` says "not sampled" (flags `00`) is still
 * recorded and shown locally, but the batch processor, which exports only
 * sampled spans, leaves it out of Jaeger. (ParentBasedSampler with an
 * always-on root and record-only for unsampled parents, answering with shared
 * results: it runs for every span of every lease.)
 */
export const KEEP_LOCALLY: Sampler = {
  shouldSample(parent: Context): SamplingResult {
    const parentSpan = trace.getSpanContext(parent);
    if (!parentSpan || !trace.isSpanContextValid(parentSpan)) return SAMPLED;
    return (parentSpan.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED ? SAMPLED : RECORDED_ONLY;
  },
  toString: () => "KeepLocallySampler",
};

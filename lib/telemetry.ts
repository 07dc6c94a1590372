/**
 * One call that sets up OpenTelemetry for Leak Lab: traces kept in memory
 * (always) and exported over OTLP/HTTP to Jaeger (when one is configured or
 * answers on localhost:4318), pool metrics read on demand (by a notebook, or
 * by a Prometheus scrape of `/metrics`), a `service.instance.id` that tells
 * this process from its replicas, and the AsyncLocalStorage context manager
 * without which spans get wrong parents.
 *
 * @module
 */
import { metrics, propagation, trace } from "@opentelemetry/api";
import { getNumberFromEnv, W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import {
  detectResources,
  envDetector,
  resourceFromAttributes,
  serviceInstanceIdDetector,
} from "@opentelemetry/resources";
import { MeterProvider } from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider, BatchSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { type MetricPoint, OnDemandMetricReader } from "./telemetry/metric_reader.ts";
import { RecentSpans } from "./telemetry/recent_spans.ts";
import { ReportingExporter } from "./telemetry/reporting_exporter.ts";
import { chooseSampler } from "./telemetry/sampler.ts";
import { SPAN_ATTRIBUTE_VALUE_LIMIT } from "./util/attribute_limit.ts";
import { ensureContextManager } from "./util/context_manager.ts";
import { raceTimeout } from "./util/race_timeout.ts";
import { redactUrl } from "./util/redact.ts";
import type { Meter, Sampler, SpanProcessor, Tracer } from "./util/public_types.ts";

export { ensureContextManager } from "./util/context_manager.ts";
export { keepLeaks, type Sampler } from "./pool/keep_leaks.ts";

export { jaegerSearchUrl, jaegerUiAnswers, jaegerUiUrl, traceUrl } from "./telemetry/jaeger_links.ts";
export { type MetricPoint, PROMETHEUS_CONTENT_TYPE } from "./telemetry/metric_reader.ts";
export { RecentSpans } from "./telemetry/recent_spans.ts";
export type * from "./util/public_types.ts";
export { type SpanView, summarizeTraces, type TraceSummary, viewTrace } from "./telemetry/trace_view.ts";
export {
  type EventKind,
  type TraceHints,
  waterfallHtml,
  type WaterfallOptions,
  waterfallText,
} from "./telemetry/waterfall.ts";

/** Options for {@linkcode setupTelemetry}. */
export interface TelemetryOptions {
  /** `service.name` on every span. @default OTEL_SERVICE_NAME, else "leak-lab" */
  serviceName?: string;
  /**
   * `service.instance.id` on every span and metric series: what tells this
   * process from the other replicas of the service.
   * @default `service.instance.id` in OTEL_RESOURCE_ATTRIBUTES, else a random UUID, the same for the whole process
   */
  serviceInstanceId?: string;
  /**
   * OTLP/HTTP base URL (`/v1/traces` is appended), or `false` for no export.
   * @default OTEL_EXPORTER_OTLP_ENDPOINT, else http://localhost:4318 when something answers there
   */
  otlpEndpoint?: string | false;
  /**
   * How many ended spans to keep in memory: about 100 requests of the demo
   * service, the last notebook cells. Spans held longer survive V8's young
   * generation into the old one: measured on the pool benchmark, a ring of
   * 2,000 cost about 3 µs of CPU per lease more than 500 (1,000 no less than
   * 2,000). @default 500
   */
  recentSpans?: number;
  /**
   * Decides which traces are recorded and exported, for example
   * `new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(0.01) })`.
   * It is wrapped in `keepLeaks()`: a span reporting a leak or an exhaustion
   * is kept whatever it decides, so sampling never hides a leak.
   * @default the sampler OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG name (read by the SDK), else one that
   * records every span (the in-memory views see everything) and exports what the caller's traceparent allows
   */
  sampler?: Sampler;
  /** Longest `flush()` waits for the exporter. @default 2000 */
  flushTimeoutMs?: number;
  /** Receives one-line reports about export. @default console.warn */
  log?: (message: string) => void;
}

/** What {@linkcode setupTelemetry} set up. */
export interface Telemetry {
  /** `service.name` of this process. */
  readonly serviceName: string;
  /** `service.instance.id` of this process. */
  readonly serviceInstanceId: string;
  /** Starts spans that go to the exporters set up here. */
  readonly tracer: Tracer;
  /** Records metrics that Prometheus and `collectMetrics()` read. */
  readonly meter: Meter;
  /** The most recent ended spans, Jaeger or not. */
  readonly spans: RecentSpans;
  /** The OTLP traces URL spans are sent to (credentials hidden), or undefined when none. */
  readonly exportingTo: string | undefined;
  /**
   * The sampler the tracer provider uses (its `toString()` reads like
   * `KeepLeaks{ParentBased{root=TraceIdRatioBased{0.01}, …}}`).
   */
  readonly sampler: Sampler;
  /**
   * True when Deno's built-in OpenTelemetry (`OTEL_DENO=true`) owns the global
   * providers. `tracer` and `meter` are then this setup's own: give them to a
   * pool (`tracer`, `meter` options) to keep its spans in memory and its
   * metrics on `/metrics`; spans from `trace.getTracer()` go to Deno's provider.
   */
  readonly denoBuiltIn: boolean;
  /** Pushes pending spans to the exporter; never waits longer than `flushTimeoutMs`. */
  flush(): Promise<void>;
  /** Reads every metric now. */
  collectMetrics(): Promise<MetricPoint[]>;
  /** Reads every metric now, in the Prometheus text format: the body of `GET /metrics`. */
  prometheusMetrics(): Promise<string>;
  /** Flushes, then uninstalls everything, so `setupTelemetry` can run again. */
  shutdown(): Promise<void>;
}

let current: Telemetry | undefined;

/**
 * Installs tracing and metrics globally; later calls return the same setup
 * (notebook cells re-run, modules import each other).
 *
 * @example
 * ```ts ignore
 * import { setupTelemetry, traceUrl } from "./telemetry.ts";
 * const telemetry = await setupTelemetry({ otlpEndpoint: false });
 * const span = telemetry.tracer.startSpan("hello");
 * span.end();
 * console.log(traceUrl(span.spanContext().traceId));
 * ```
 */
export async function setupTelemetry(options: TelemetryOptions = {}): Promise<Telemetry> {
  if (current) return current;
  const log = options.log ?? ((message: string) => console.warn(message));
  const flushTimeoutMs = options.flushTimeoutMs ?? 2_000;
  const resource = resourceFromAttributes({ "service.name": "leak-lab" })
    .merge(detectResources({ detectors: [serviceInstanceIdDetector, envDetector] })) // OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES
    .merge(resourceFromAttributes({
      ...(options.serviceName ? { "service.name": options.serviceName } : {}),
      ...(options.serviceInstanceId ? { "service.instance.id": options.serviceInstanceId } : {}),
    }));
  const serviceName = String(resource.attributes["service.name"]);
  const serviceInstanceId = String(resource.attributes["service.instance.id"]);
  const spans = new RecentSpans(options.recentSpans ?? 500);
  const tracesUrl = await findOtlpTracesUrl(options.otlpEndpoint, log);
  // What banners, /api/info and export reports show: never the endpoint's credentials.
  const exportingTo = tracesUrl && redactUrl(tracesUrl);

  const processors: SpanProcessor[] = [spans];
  if (tracesUrl && exportingTo) {
    const exporter = new OTLPTraceExporter({ url: tracesUrl, timeoutMillis: Math.min(1_000, flushTimeoutMs) });
    processors.push(
      new BatchSpanProcessor(new ReportingExporter(exporter, exportingTo, log), {
        scheduledDelayMillis: 500,
        exportTimeoutMillis: flushTimeoutMs,
      }),
    );
  }
  const { sampler } = chooseSampler(options.sampler, log);
  const tracerProvider = new BasicTracerProvider({
    resource,
    spanProcessors: processors,
    sampler,
    spanLimits: spanLimits(),
  });
  const reader = new OnDemandMetricReader();
  const meterProvider = new MeterProvider({ resource, readers: [reader] });

  ensureContextManager();
  // Deno's built-in OpenTelemetry registers its providers before any user code, and the API keeps the first.
  const ownsTraces = trace.setGlobalTracerProvider(tracerProvider);
  const ownsMetrics = metrics.setGlobalMeterProvider(meterProvider);
  const ownsPropagation = propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  const denoBuiltIn = !ownsTraces;
  if (denoBuiltIn) {
    log(
      `Deno's built-in OpenTelemetry (OTEL_DENO) owns the global tracer and meter: it records and exports ` +
        `Deno.serve's spans and any from trace.getTracer(). Pools given this setup's tracer and meter keep their ` +
        `spans in memory (the page, notebooks) and their metrics on /metrics, and ${
          exportingTo ? `export them to ${exportingTo}` : "export them nowhere (no OTLP endpoint)"
        }; they join Deno's request spans by trace id.`,
    );
  }

  let slowFlushReported = false;
  const flush = async () => {
    // A failed export was already reported by ReportingExporter; flushing must never throw.
    const outcome = await raceTimeout(tracerProvider.forceFlush().catch(() => {}), flushTimeoutMs);
    if (!outcome.settled && !slowFlushReported) {
      slowFlushReported = true;
      log(`Flushing traces to ${exportingTo} took over ${flushTimeoutMs}ms; going on without waiting.`);
    }
  };

  current = {
    serviceName,
    serviceInstanceId,
    tracer: tracerProvider.getTracer("leak-lab"),
    meter: meterProvider.getMeter("leak-lab"),
    spans,
    exportingTo,
    sampler,
    denoBuiltIn,
    flush,
    collectMetrics: () => reader.points(),
    prometheusMetrics: () => reader.prometheus(),
    async shutdown() {
      await flush();
      await Promise.allSettled([tracerProvider.shutdown(), meterProvider.shutdown()]);
      // Only what this setup registered: under OTEL_DENO the globals are Deno's.
      if (ownsTraces) trace.disable();
      if (ownsMetrics) metrics.disable();
      if (ownsPropagation) propagation.disable();
      current = undefined;
    },
  };
  return current;
}

export { SPAN_ATTRIBUTE_VALUE_LIMIT };

/**
 * The SDK keeps attribute values of any length by default: a request with a
 * 60 KB URL or User-Agent would be held whole on its span, in the in-memory
 * ring and in every export. Values are cut at 4,096 characters (a leak's
 * `code.stacktrace` fits), at most 64 attributes per span; the
 * OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT / OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT
 * and OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT variables still apply when set.
 */
function spanLimits() {
  return {
    attributeValueLengthLimit: getNumberFromEnv("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT") ??
      getNumberFromEnv("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT") ?? SPAN_ATTRIBUTE_VALUE_LIMIT,
    attributeCountLimit: getNumberFromEnv("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT") ??
      getNumberFromEnv("OTEL_ATTRIBUTE_COUNT_LIMIT") ?? 64,
  };
}

/** The Telemetry set up by {@linkcode setupTelemetry}, if any. */
export function currentTelemetry(): Telemetry | undefined {
  return current;
}

/** Resolves where traces go: explicit option, then OTEL_* env, then a quick probe of localhost:4318. */
async function findOtlpTracesUrl(option: string | false | undefined, log: (line: string) => void) {
  if (option === false) return undefined;
  const env = (key: string) => Deno.env.get(key)?.trim().toLowerCase();
  if (option === undefined && (env("OTEL_SDK_DISABLED") === "true" || env("OTEL_TRACES_EXPORTER") === "none")) {
    log(
      `No trace export: ${
        env("OTEL_SDK_DISABLED") === "true" ? "OTEL_SDK_DISABLED=true" : "OTEL_TRACES_EXPORTER=none"
      }.`,
    );
    return undefined;
  }
  const protocol = env("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") ?? env("OTEL_EXPORTER_OTLP_PROTOCOL");
  const url = await otlpTracesUrl(option);
  if (url && protocol && protocol !== "http/json") {
    log(
      `setupTelemetry() exports OTLP as http/json only; the protocol "${protocol}" is not used for ${redactUrl(url)}.`,
    );
  }
  return url;
}

async function otlpTracesUrl(option: string | undefined): Promise<string | undefined> {
  const tracesUrl = option === undefined ? Deno.env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") : undefined;
  if (tracesUrl) return tracesUrl;
  const base = option ?? Deno.env.get("OTEL_EXPORTER_OTLP_ENDPOINT");
  if (base) return `${base.replace(/\/+$/, "")}/v1/traces`;
  return await answers("localhost", 4318, 300) ? "http://localhost:4318/v1/traces" : undefined;
}

/** True when a TCP connection to host:port opens within `timeoutMs`. */
async function answers(hostname: string, port: number, timeoutMs: number): Promise<boolean> {
  const attempt = Deno.connect({ hostname, port }).then((conn) => {
    conn.close();
    return true;
  }, () => false);
  const outcome = await raceTimeout(attempt, timeoutMs);
  return outcome.settled && outcome.value;
}

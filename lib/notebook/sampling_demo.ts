/**
 * Notebook 5's "sampling hides the leak, except here": a real run of the
 * leaking handler under head sampling, as a production service would trace
 * it, and what reached the exporter for each leaking request.
 *
 * A private OpenTelemetry SDK (not the notebook's, which keeps every span)
 * samples one request in ten with `ParentBased(TraceIdRatioBased)`. Most
 * leaking requests are then unsampled: no span of theirs is exported, the
 * fate of every leak under a pool instrumentation that only makes spans.
 * TracedPool still exports a `connection_leak_detected` span in each one's
 * own trace, so the `leaklab.leak=true` search finds all of them.
 *
 * @module
 */
import type { Context } from "@opentelemetry/api";
import {
  BasicTracerProvider,
  ParentBasedSampler,
  type ReadableSpan,
  type Span,
  type SpanProcessor,
  TraceIdRatioBasedSampler,
} from "@opentelemetry/sdk-trace-base";
import { FaultSchedule } from "../demo/fault_schedule.ts";
import { badQueryWithLeak } from "../demo/query_handlers.ts";
import { runRequests } from "../demo/request_series.ts";
import { LEAK_ATTRIBUTE, TracedPool } from "../pool.ts";
import { escapeHtml } from "../util/escape_html.ts";
import type { MimeBundle } from "./mime_bundle.ts";

/** Options for {@linkcode runSampledLeaks}. */
export interface SampledLeaksOptions {
  /** Where the pool connects. */
  connectionString: string;
  /** Requests sent through the leaking handler. @default 40 */
  requests?: number;
  /** Share of requests the head sampler keeps. @default 0.1 */
  ratio?: number;
  /** Every Nth query fails, and its connection leaks. @default 3 */
  failEvery?: number;
}

/** One request of the run, as an exporter saw it. */
export interface SampledRequest {
  request: number;
  traceId: string;
  /** The head sampler kept the request. */
  sampled: boolean;
  /** Its connection never came back. */
  leaked: boolean;
  /** Names of the spans exported in its trace. */
  exported: string[];
  /** Jaeger's `leaklab.leak=true` search would find its trace. */
  found: boolean;
}

/** What {@linkcode runSampledLeaks} saw. */
export interface SampledLeaksRun {
  ratio: number;
  requests: SampledRequest[];
}

/** Keeps every span the private SDK exports. */
class ExportedSpans implements SpanProcessor {
  readonly spans: ReadableSpan[] = [];
  onStart(_span: Span, _parent: Context): void {}
  onEnd(span: ReadableSpan): void {
    if (span.spanContext().traceFlags & 1) this.spans.push(span); // what an exporter is sent: sampled spans only
  }
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** Runs the leaking handler under head sampling and reports, per request, what an exporter received. */
export async function runSampledLeaks(options: SampledLeaksOptions): Promise<SampledLeaksRun> {
  const { requests = 40, ratio = 0.1, failEvery = 3 } = options;
  const exported = new ExportedSpans();
  const provider = new BasicTracerProvider({
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) }),
    spanProcessors: [exported],
  });
  const tracer = provider.getTracer("nb5-sampling");
  const pool = new TracedPool({
    connectionString: options.connectionString,
    name: "nb5-sampling",
    max: requests, // room for every leak: this run is about traces, not exhaustion
    tracer,
    captureAcquireSites: "always",
    log: () => {},
  });
  const faults = new FaultSchedule({ failEvery });
  try {
    const outcomes = await runRequests({
      count: requests,
      tracer,
      root: true,
      send: () => badQueryWithLeak(pool, faults),
    });
    const leakedTraces = new Set(pool.leaks().map((leak) => leak.traceId));
    return {
      ratio,
      requests: outcomes.map(({ request, traceId }) => {
        const spans = exported.spans.filter((span) => span.spanContext().traceId === traceId);
        return {
          request,
          traceId,
          sampled: spans.some((span) => span.name === "request"),
          leaked: leakedTraces.has(traceId),
          exported: spans.map((span) => span.name),
          found: spans.some((span) => span.attributes[LEAK_ATTRIBUTE] === true),
        };
      }),
    };
  } finally {
    pool.reset();
    await pool.end();
    await provider.shutdown();
  }
}

/** The run for a notebook cell: the story in a sentence and the leaking requests' table, as text and HTML. */
export function sampledLeaksBundle(run: SampledLeaksRun): MimeBundle {
  const leaking = run.requests.filter((r) => r.leaked);
  const lines = leaking.map((r) =>
    `  request ${String(r.request).padStart(2)}  ${r.sampled ? "sampled    " : "not sampled"}  ` +
    `${r.found ? "found  " : "MISSED "} exported: ${r.exported.join(", ") || "nothing"}`
  );
  const text = `${run.requests.length} requests at ${run.ratio * 100} %: ` +
    `${run.requests.filter((r) => r.sampled).length} sampled, ${leaking.length} leaked, ` +
    `${leaking.filter((r) => r.found).length} found by leaklab.leak=true\n${lines.join("\n")}`;
  return { "text/plain": text, "text/html": sampledLeaksHtml(run) };
}

/** The run as a short table (leaking requests only) and the counts that tell the story, as HTML. */
export function sampledLeaksHtml(run: SampledLeaksRun): string {
  const leaking = run.requests.filter((r) => r.leaked);
  const unsampled = leaking.filter((r) => !r.sampled);
  const found = leaking.filter((r) => r.found);
  const rows = leaking.map((r) =>
    `<tr><td>${r.request}</td><td><code>${r.traceId.slice(0, 12)}…</code></td><td>${r.sampled ? "yes" : "no"}</td>` +
    `<td>${escapeHtml(r.exported.join(", ") || "nothing")}</td><td>${r.found ? "found" : "MISSED"}</td></tr>`
  ).join("");
  return `<p><b>${run.requests.length} requests</b>, head-sampled at ${run.ratio * 100} %: ` +
    `${run.requests.filter((r) => r.sampled).length} sampled. <b>${leaking.length} leaked</b> a connection; ` +
    `${unsampled.length} of them were not sampled, and a pool instrumentation that only makes spans would have ` +
    `exported nothing for them. The <code>leaklab.leak=true</code> search finds <b>${found.length} of ` +
    `${leaking.length}</b>.</p><table><thead><tr><th>request</th><th>trace</th><th>sampled</th>` +
    `<th>exported in its trace</th><th>leak search</th></tr></thead><tbody>${rows}</tbody></table>`;
}

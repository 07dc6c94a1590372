/**
 * Wraps any span exporter (OTLP/HTTP in Leak Lab) and says, once, when export
 * starts failing (and once when it works again), instead of failing silently
 * or on every batch.
 * A workshop run without Jaeger is normal: spans stay in memory regardless.
 *
 * @module
 */
import { context, ROOT_CONTEXT } from "@opentelemetry/api";
import { type ExportResult, ExportResultCode, suppressTracing } from "@opentelemetry/core";
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace-base";

export class ReportingExporter implements SpanExporter {
  #failing = false;
  /** Spans the wrapped exporter accepted. */
  exported = 0;
  /** Spans the wrapped exporter could not deliver. */
  dropped = 0;

  /**
   * @param inner the exporter that does the work
   * @param endpoint where it sends, for the messages
   * @param log receives the one-line reports
   */
  constructor(
    readonly inner: SpanExporter,
    readonly endpoint: string,
    readonly log: (message: string) => void,
  ) {}

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    // Outside every request's context, with tracing suppressed: the export's own HTTP request (which Deno's
    // built-in OpenTelemetry would trace) never joins a request's trace or feeds export back into itself.
    context.with(suppressTracing(ROOT_CONTEXT), () => this.#export(spans, done));
  }

  #export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.inner.export(spans, (result) => {
      if (result.code === ExportResultCode.SUCCESS) {
        this.exported += spans.length;
        if (this.#failing) this.log(`Trace export to ${this.endpoint} works again.`);
        this.#failing = false;
      } else {
        this.dropped += spans.length;
        if (!this.#failing) {
          this.log(
            `Could not export traces to ${this.endpoint} (${result.error?.message ?? "unknown error"}). ` +
              `Traces stay in memory; start the collector or Jaeger there (in Leak Lab: \`docker compose up -d jaeger\`).`,
          );
        }
        this.#failing = true;
      }
      done(result);
    });
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
}

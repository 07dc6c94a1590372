/**
 * A tracer that records into the SDK's own InMemorySpanExporter, so tests
 * check spans through an independent, well-known path.
 *
 * @module
 */
import type { Tracer } from "@opentelemetry/api";
import { type ExportResult, ExportResultCode } from "@opentelemetry/core";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { ensureContextManager } from "../../lib/telemetry.ts";

/**
 * The SDK's InMemorySpanExporter, reporting success at once. The SDK's own
 * reports it on a zero-delay timer, which Deno's op sanitizer (on in
 * `deno task test`) counts as a timer the test leaked.
 */
export class SyncInMemorySpanExporter extends InMemorySpanExporter {
  override export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    this.getFinishedSpans().push(...spans);
    resultCallback({ code: ExportResultCode.SUCCESS });
  }
}

/** A private tracer and the exporter that receives its spans. */
export function testTracer(): { tracer: Tracer; exporter: InMemorySpanExporter } {
  ensureContextManager();
  const exporter = new SyncInMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  return { tracer: provider.getTracer("test"), exporter };
}

/** The one span named `name`; throws when there is not exactly one. */
export function only(spans: ReadableSpan[], name: string): ReadableSpan {
  const found = spans.filter((span) => span.name === name);
  if (found.length !== 1) {
    throw new Error(`Expected exactly one "${name}" span, found ${found.length}: ${spans.map((s) => s.name)}`);
  }
  return found[0];
}

/** The id of a span's parent, or undefined for a root. */
export function parentOf(span: ReadableSpan): string | undefined {
  return span.parentSpanContext?.spanId;
}

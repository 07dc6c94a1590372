/**
 * A private tracer whose spans land in the SDK's own InMemorySpanExporter,
 * so checkpoints (and tests) judge spans through an independent, well-known
 * path rather than through Leak Lab's own span store.
 *
 * @example
 * ```ts
 * import { recordingTracer } from "./recording_tracer.ts";
 * const { tracer, exporter } = recordingTracer();
 * tracer.startSpan("hello").end();
 * console.log(exporter.getFinishedSpans().map((s) => s.name)); // ["hello"]
 * ```
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
import { ensureContextManager } from "../telemetry.ts";

/**
 * The SDK's InMemorySpanExporter, reporting success at once. The SDK's own
 * reports it on a zero-delay timer, which Deno's op sanitizer counts as a
 * timer the test leaked.
 */
export class SyncInMemorySpanExporter extends InMemorySpanExporter {
  override export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    this.getFinishedSpans().push(...spans);
    resultCallback({ code: ExportResultCode.SUCCESS });
  }
}

/** A private tracer and the exporter that receives its spans as each one ends. */
export function recordingTracer(): { tracer: Tracer; exporter: InMemorySpanExporter } {
  ensureContextManager();
  const exporter = new SyncInMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  return { tracer: provider.getTracer("leak-lab.recording"), exporter };
}

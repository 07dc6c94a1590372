/**
 * Small readers of recorded spans, for assertions in tests.
 *
 * @module
 */
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";

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

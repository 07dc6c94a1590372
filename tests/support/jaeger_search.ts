/**
 * Jaeger v2's trace search, as its default (memory) store runs it, applied
 * to the OTLP spans a test received: so a test can prove that a search link
 * finds exactly the traces it should, without a Jaeger binary.
 *
 * A line-by-line port of `validTrace`, `validSpan`, `matchAttributes` and
 * `findKeyValInTrace` in jaegertracing/jaeger `internal/storage/v2/memory/
 * tenant.go`, identical in v2.17.0, v2.19.0 and main (2026-08): a tag matches
 * span, scope and resource attributes and the attributes of events and
 * links, compared as strings, never an event's *name*; `error=true` matches
 * spans whose status is ERROR (string form accepted since v2.17.0, PR #8217).
 *
 * @module
 */
import type { OtlpAttribute, OtlpValue, ReceivedSpan } from "./otlp_receiver.ts";

/** What the Jaeger UI's search form sends: the service and its `tags` JSON. */
export interface JaegerQuery {
  service: string;
  tags: Record<string, string>;
}

/** Reads a Jaeger UI search URL (`/search?service=…&tags=…`) into a query. */
export function queryOfSearchUrl(url: string): JaegerQuery {
  const params = new URL(url).searchParams;
  return { service: params.get("service") ?? "", tags: JSON.parse(params.get("tags") ?? "{}") };
}

/** pcommon.Value.AsString() for the value kinds OTLP/JSON carries. */
function asString(value: OtlpValue): string {
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return String(value.boolValue);
  if (value.intValue !== undefined) return String(value.intValue);
  if (value.doubleValue !== undefined) return String(value.doubleValue);
  return "";
}

function matchAttributes(key: string, value: string, attributes: OtlpAttribute[] | undefined): boolean {
  const found = attributes?.find((attribute) => attribute.key === key);
  return found !== undefined && asString(found.value) === value;
}

function findKeyValInTrace(key: string, value: string, span: ReceivedSpan): boolean {
  return matchAttributes(key, value, span.attributes) ||
    matchAttributes(key, value, span.scopeAttributes) ||
    matchAttributes(key, value, span.resourceAttributes) ||
    (span.events ?? []).some((event) => matchAttributes(key, value, event.attributes)) ||
    (span.links ?? []).some((link) => matchAttributes(key, value, link.attributes));
}

const STATUS_ERROR = 2;
const STATUS_OK = 1;

/** Whether Jaeger's search would count `span` as a hit for `query`. */
export function spanMatches(span: ReceivedSpan, query: JaegerQuery): boolean {
  const service = span.resourceAttributes.find((a) => a.key === "service.name");
  if (query.service !== "" && (service ? asString(service.value) : "") !== query.service) return false;
  for (const [key, value] of Object.entries(query.tags)) {
    if (key === "error") {
      if (value !== "true" && value !== "false") return false;
      const code = span.status?.code ?? 0;
      if (value === "true" ? code !== STATUS_ERROR : code !== STATUS_OK) return false;
      continue;
    }
    if (key.startsWith("resource.")) {
      if (!matchAttributes(key.slice("resource.".length), value, span.resourceAttributes)) return false;
      continue;
    }
    if (!findKeyValInTrace(key, value, span)) return false;
  }
  return true;
}

/** The trace ids Jaeger's search returns for `query` over `spans`. */
export function searchTraces(spans: readonly ReceivedSpan[], query: JaegerQuery): Set<string> {
  return new Set(spans.filter((span) => spanMatches(span, query)).map((span) => span.traceId));
}

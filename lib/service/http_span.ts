/**
 * Runs each request in an HTTP server span that is also the pool's leak
 * scope, so a trace reads `POST /api/bad` → `bad_query_with_leak` →
 * `get_connection`, `database.query`, and a connection a request forgot is
 * caught when the request ends.
 *
 * Attributes follow the OpenTelemetry HTTP semantic conventions; an incoming
 * W3C `traceparent` becomes the parent, and every response carries a
 * `traceresponse` header (as Jaeger's HotROD does) so a caller can find it.
 *
 * @module
 */
import {
  type Attributes,
  context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
} from "@opentelemetry/api";
import type { TextMapGetter } from "@opentelemetry/api";
import {
  ATTR_CLIENT_ADDRESS,
  ATTR_CLIENT_PORT,
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_REQUEST_METHOD_ORIGINAL,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_URL_PATH,
  ATTR_URL_QUERY,
  ATTR_URL_SCHEME,
  ATTR_USER_AGENT_ORIGINAL,
} from "@opentelemetry/semantic-conventions";
import { SPAN_ATTRIBUTE_VALUE_LIMIT } from "../telemetry.ts";
import type { DemoPool } from "./demo_pool.ts";

const KNOWN_METHODS = new Set(["CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE"]);

const headerGetter: TextMapGetter<Headers> = {
  get: (headers, key) => headers.get(key) ?? undefined,
  keys: (headers) => [...headers.keys()],
};

/**
 * Runs `handle` inside a SERVER span named `METHOD route` (or just `METHOD`
 * when no route matched), opened with `pool.scope` so leaked connections are
 * reported on the request's own trace.
 */
export function inServerSpan(
  pool: DemoPool,
  request: Request,
  url: URL,
  route: string | undefined,
  handle: (span: Span) => Promise<Response>,
  info?: Deno.ServeHandlerInfo,
): Promise<Response> {
  const method = KNOWN_METHODS.has(request.method) ? request.method : "_OTHER";
  const attributes = requestAttributes(request, url, method, route, info);
  const parent = propagation.extract(ROOT_CONTEXT, request.headers, headerGetter);
  return context.with(parent, () =>
    pool.scope(route ? `${method} ${route}` : method, async (span) => {
      const response = await handle(span);
      span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, response.status);
      if (response.status >= 500) {
        // Server spans are errors only for 5xx: a 4xx is the caller's mistake, not ours.
        span.setAttribute(ATTR_ERROR_TYPE, String(response.status));
        span.setStatus({ code: SpanStatusCode.ERROR, message: `HTTP ${response.status}` });
      }
      const { traceId, spanId, traceFlags } = span.spanContext();
      response.headers.set("traceresponse", `00-${traceId}-${spanId}-${traceFlags.toString(16).padStart(2, "0")}`);
      return response;
    }, { kind: SpanKind.SERVER, attributes }));
}

function requestAttributes(
  request: Request,
  url: URL,
  method: string,
  route: string | undefined,
  info: Deno.ServeHandlerInfo | undefined,
): Attributes {
  const attributes: Attributes = {
    [ATTR_HTTP_REQUEST_METHOD]: method,
    [ATTR_URL_PATH]: bounded(url.pathname),
    [ATTR_URL_SCHEME]: url.protocol.replace(":", ""),
    [ATTR_SERVER_ADDRESS]: url.hostname,
    [ATTR_SERVER_PORT]: Number(url.port || (url.protocol === "https:" ? 443 : 80)),
  };
  if (method === "_OTHER") attributes[ATTR_HTTP_REQUEST_METHOD_ORIGINAL] = bounded(request.method);
  if (route) attributes[ATTR_HTTP_ROUTE] = route;
  if (url.search) attributes[ATTR_URL_QUERY] = bounded(url.search.slice(1));
  const userAgent = request.headers.get("user-agent");
  if (userAgent) attributes[ATTR_USER_AGENT_ORIGINAL] = bounded(userAgent);
  const remote = info?.remoteAddr;
  if (remote && "hostname" in remote) {
    attributes[ATTR_CLIENT_ADDRESS] = remote.hostname;
    attributes[ATTR_CLIENT_PORT] = remote.port;
  }
  return attributes;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * What the caller sent, cut at the span limit. The SDK cuts long values too,
 * but with a slice, and V8 keeps the whole original string alive behind a
 * slice of it: 2,000 requests with a 60 KB URL or User-Agent kept 120 MB of
 * heap through the span ring. A copy keeps only what is shown.
 */
function bounded(value: string): string {
  if (value.length <= SPAN_ATTRIBUTE_VALUE_LIMIT) return value;
  return decoder.decode(encoder.encode(value.slice(0, SPAN_ATTRIBUTE_VALUE_LIMIT)));
}

/**
 * One HTTP request as one leak scope: a span named `METHOD /route/:pattern`
 * with the OpenTelemetry HTTP semantic-convention attributes, opened with
 * `pool.scope()` so a connection the request forgot is reported on it, and
 * marked ERROR when the server failed (a 5xx or a throw).
 *
 * @module
 */
import {
  context,
  isSpanContextValid,
  propagation,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  trace,
} from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
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
import type { ScopeOptions } from "../pool.ts";
import { bounded } from "../util/attribute_limit.ts";
import type { Attributes, Context, Span } from "../util/public_types.ts";

/** What the middleware needs of a pool: its `scope()`. A `TracedPool` fits as is. */
export interface ScopedPool {
  /** Runs `fn` in a span named `name` and reports every connection it acquired and did not return. */
  scope<T>(name: string, fn: (span: Span) => T | Promise<T>, options?: ScopeOptions): Promise<T>;
}

/** Options shared by `leakScope()` and `withLeakScope()`. */
export interface RequestScopeOptions {
  /** Set on every request's span, beside the HTTP ones. @default none */
  attributes?: Attributes;
  /**
   * Answer with a `traceresponse: 00-<trace id>-<span id>-<flags>` header (W3C Trace Context Level 2), so a
   * caller can find its request's trace.
   * @default false
   */
  traceResponse?: boolean;
}

/** The request as the scope sees it. */
export interface RequestFacts {
  request: Request;
  url: URL;
  /** The matched route's pattern (`/sensors/:id`), never the raw path; undefined when no route matched. */
  route?: string;
  info?: Deno.ServeHandlerInfo;
}

const KNOWN_METHODS = new Set(["CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE"]);
const W3C = new W3CTraceContextPropagator();
const headerGetter: TextMapGetter<Headers> = {
  get: (headers, key) => headers.get(key) ?? undefined,
  keys: (headers) => [...headers.keys()],
};

/**
 * Runs `respond` in the request's scope. `thrown` says, after `respond`
 * returned, whether the app caught an error on the way (Hono answers a
 * handler's throw with a 500 inside `next()`, so nothing reaches us).
 *
 * The parent: when a span is already active (the app's own instrumentation,
 * Deno's `OTEL_DENO` server span) the scope joins it as an INTERNAL child, since
 * that span is the request's SERVER span. Otherwise the scope is the SERVER
 * span, under the caller's trace if the request carries one: read with the
 * registered propagator, else as a W3C `traceparent`.
 */
export function inRequestScope(
  pool: ScopedPool,
  facts: RequestFacts,
  options: RequestScopeOptions,
  respond: (span: Span) => Promise<Response>,
  thrown: () => unknown = () => undefined,
): Promise<Response> {
  const { request, route } = facts;
  const method = KNOWN_METHODS.has(request.method) ? request.method : "_OTHER";
  const active = context.active();
  const current = trace.getSpanContext(active);
  const joined = current !== undefined && isSpanContextValid(current);
  const parent = joined ? active : incomingTrace(active, request.headers);
  const attributes = { ...requestAttributes(facts, method), ...options.attributes };
  const kind = joined ? SpanKind.INTERNAL : SpanKind.SERVER;
  return context.with(parent, () =>
    pool.scope(route ? `${method} ${route}` : method, async (span) => {
      let response: Response;
      try {
        response = await respond(span);
      } catch (error) {
        failed(span, error); // scope() sets the status too; this adds the exception and error.type
        throw error;
      }
      span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, response.status);
      const error = thrown();
      if (error !== undefined && response.status >= 500) failed(span, error);
      else if (response.status >= 500) {
        // Server spans are errors only for 5xx: a 4xx is the caller's mistake, not ours.
        span.setAttribute(ATTR_ERROR_TYPE, String(response.status));
        span.setStatus({ code: SpanStatusCode.ERROR, message: `HTTP ${response.status}` });
      }
      if (options.traceResponse) setTraceResponse(response, span);
      return response;
    }, { kind, attributes }));
}

function incomingTrace(active: Context, headers: Headers): Context {
  const extracted = propagation.extract(active, headers, headerGetter);
  // Without an SDK's propagator (a bare provider) the global one reads nothing; a W3C header still counts.
  return trace.getSpanContext(extracted) ? extracted : W3C.extract(active, headers, headerGetter);
}

function failed(span: Span, error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  span.recordException(error instanceof Error ? error : message);
  span.setAttribute(ATTR_ERROR_TYPE, error instanceof Error ? error.name : typeof error);
  span.setStatus({ code: SpanStatusCode.ERROR, message });
}

function setTraceResponse(response: Response, span: Span): void {
  const { traceId, spanId, traceFlags } = span.spanContext();
  if (!isSpanContextValid(span.spanContext())) return; // no SDK: there is no trace to point at
  try {
    response.headers.set("traceresponse", `00-${traceId}-${spanId}-${traceFlags.toString(16).padStart(2, "0")}`);
  } catch {
    // A Response from fetch() or Response.redirect() has immutable headers: it goes out without the header.
  }
}

function requestAttributes({ request, url, route, info }: RequestFacts, method: string): Attributes {
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

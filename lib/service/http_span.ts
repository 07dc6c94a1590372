/**
 * Runs each request in an HTTP server span that is also the pool's leak
 * scope, so a trace reads `POST /api/bad` → `bad_query_with_leak` →
 * `get_connection`, `database.query`, and a connection a request forgot is
 * caught when the request ends.
 *
 * This is the library's own `withLeakScope()` (lib/middleware.ts), as a
 * service using the package would call it: HTTP semantic-convention
 * attributes, an incoming W3C `traceparent` as the parent, and a
 * `traceresponse` header on every response (as Jaeger's HotROD does) so a
 * caller can find its trace.
 *
 * @module
 */
import { INVALID_SPAN_CONTEXT, type Span, trace } from "@opentelemetry/api";
import { withLeakScope } from "../middleware.ts";
import type { DemoPool } from "./demo_pool.ts";

/**
 * Runs `handle` inside a SERVER span named `METHOD route` (or just `METHOD`
 * when no route matched), opened with `pool.scope` so leaked connections are
 * reported on the request's own trace.
 */
export function inServerSpan(
  pool: DemoPool,
  request: Request,
  _url: URL,
  route: string | undefined,
  handle: (span: Span) => Promise<Response>,
  info?: Deno.ServeHandlerInfo,
): Promise<Response> {
  // Without an SDK the scope has no span of its own: the app's recordException() calls then go nowhere.
  const scoped = () => handle(trace.getActiveSpan() ?? trace.wrapSpanContext(INVALID_SPAN_CONTEXT));
  return withLeakScope(pool, scoped, { route: () => route, traceResponse: true })(request, info);
}

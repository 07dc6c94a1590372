/**
 * Per-request leak scopes for a service: `leakScope(pool)` for Hono,
 * `withLeakScope(pool, handler)` for a plain `Deno.serve` handler. Each
 * request runs in `pool.scope()`, in a span named after its route's pattern
 * (`GET /sensors/:id`, never the raw path, so traces group by endpoint), with
 * the OpenTelemetry HTTP attributes, status ERROR on a 5xx or a throw, and
 * every connection the request did not return reported on that span.
 *
 * When a span is already active (your own HTTP instrumentation, or Deno's
 * `OTEL_DENO` server span) the scope joins it as an INTERNAL child; otherwise
 * the scope is the request's SERVER span and continues the caller's trace
 * from its `traceparent` header.
 *
 * @example
 * ```ts ignore
 * import { Hono } from "hono";
 * import { leakScope } from "./middleware.ts";
 * import { TracedPool } from "./pool.ts";
 *
 * const pool = new TracedPool({ connectionString: Deno.env.get("DATABASE_URL")! });
 * const app = new Hono();
 * app.use(leakScope(pool));
 * app.get("/sensors/:id", async (c) => {
 *   const { rows } = await pool.query("SELECT * FROM sensors WHERE id = $1", [c.req.param("id")]);
 *   return c.json(rows);
 * });
 * Deno.serve(app.fetch);
 * ```
 *
 * @module
 */
import { ATTR_HTTP_ROUTE } from "@opentelemetry/semantic-conventions";
import type * as hono from "hono";
import { matchedRoutes } from "hono/route";
import type { RouterRoute } from "hono/types";
import { inRequestScope, type RequestScopeOptions, type ScopedPool } from "./middleware/request_scope.ts";

export type { RequestScopeOptions, ScopedPool } from "./middleware/request_scope.ts";
export type { Attributes, Span } from "./util/public_types.ts";
export type { ScopeOptions } from "./pool.ts";

/** What Hono calls a route registered with `app.use()` or `app.all()`. */
const METHOD_NAME_ALL = "ALL";

/** Options for {@linkcode withLeakScope}. */
export interface WithLeakScopeOptions extends RequestScopeOptions {
  /**
   * The route pattern a request matched (`/sensors/:id`), which names its scope. Return undefined when none
   * matched. Never return the raw path: every id would make a span name of its own.
   * @default none: the scope is named by the method alone
   */
  route?: (request: Request, url: URL) => string | undefined;
}

/** What {@linkcode leakScope} returns: a Hono middleware for any app (`app.use(leakScope(pool))`). */
export type LeakScopeMiddleware = (c: HonoContext, next: HonoNext) => Promise<void>;

/** A Hono request context (`hono`'s `Context`). */
export type HonoContext = hono.Context;
/** Calls the next middleware or handler (`hono`'s `Next`). */
export type HonoNext = hono.Next;

/** A `Deno.serve` handler. */
export type ServeHandler = (request: Request, info: Deno.ServeHandlerInfo) => Response | Promise<Response>;

/**
 * Hono middleware that runs each request in its own leak scope, named
 * `METHOD /route/:pattern`. Register it first (`app.use(leakScope(pool))`) so
 * every handler and middleware after it runs inside the scope.
 *
 * @param pool a `TracedPool` (anything with its `scope()`)
 * @param options extra attributes, a `traceresponse` header
 * @returns the middleware
 */
export function leakScope(pool: ScopedPool, options: RequestScopeOptions = {}): LeakScopeMiddleware {
  return async (c, next) => {
    const info = c.env as Partial<Deno.ServeHandlerInfo> | undefined; // Deno.serve(app.fetch) passes its info as env
    const routes = matchedRoutes(c);
    const ours = c.req.routeIndex;
    const expected = endpointOf(routes, routes.length - 1, ours);
    await inRequestScope(
      pool,
      {
        request: c.req.raw,
        url: new URL(c.req.url),
        route: expected,
        info: info?.remoteAddr ? info as Deno.ServeHandlerInfo : undefined,
      },
      options,
      async (span) => {
        await next();
        // Two routes can match one path; the one that answered is where dispatch stopped.
        const answered = endpointOf(routes, c.req.routeIndex, ours);
        if (answered && answered !== expected) {
          span.updateName(`${c.req.method} ${answered}`);
          span.setAttribute(ATTR_HTTP_ROUTE, answered);
        }
        return c.res;
      },
      () => c.error, // Hono catches a handler's throw inside next() and answers 500: this is how we learn of it
    );
  };
}

/**
 * Wraps a `Deno.serve` handler so each request runs in its own leak scope. A
 * throw from the handler marks the span ERROR and is rethrown (Deno.serve
 * then answers 500).
 *
 * @param pool a `TracedPool` (anything with its `scope()`)
 * @param handler your handler, unchanged
 * @param options the route's pattern for the scope's name, extra attributes, a `traceresponse` header
 * @returns a handler to give `Deno.serve`
 *
 * @example
 * ```ts ignore
 * import { withLeakScope } from "./middleware.ts";
 * const sensor = new URLPattern({ pathname: "/sensors/:id" });
 * Deno.serve(withLeakScope(pool, handler, { route: (_, url) => sensor.test(url) ? sensor.pathname : undefined }));
 * ```
 */
export function withLeakScope(
  pool: ScopedPool,
  handler: ServeHandler,
  options: WithLeakScopeOptions = {},
): (request: Request, info?: Deno.ServeHandlerInfo) => Promise<Response> {
  return (request, info) => {
    const url = new URL(request.url);
    const route = options.route?.(request, url);
    return inRequestScope(pool, { request, url, route, info }, options, async () => await handler(request, info!));
  };
}

/**
 * The pattern of the endpoint at or before `from`. Hono's router matched
 * every route before the first middleware ran, so the endpoint is known
 * before `next()` (`c.req.routePath` is this middleware's own `*`, and
 * `routePath(c, -1)` is whatever middleware was registered last). An
 * endpoint is a route for one method, or a handler that takes no `next`;
 * `app.use()` middleware is neither. None after ours means a 404: the scope
 * is named by the method alone.
 */
function endpointOf(routes: RouterRoute[], from: number, ours: number): string | undefined {
  for (let i = from; i > ours; i--) {
    const { method, handler, path } = routes[i];
    if (method !== METHOD_NAME_ALL || handler.length < 2) return path;
  }
  return undefined;
}

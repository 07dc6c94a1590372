/**
 * The demo service as one request handler, built from its dependencies like a
 * hono app: give it a pool, handlers, a fault schedule and a span store, and
 * call it with a `Request` — from `Deno.serve`, or straight from a test.
 *
 * @module
 */
import { SpanStatusCode } from "@opentelemetry/api";
import type { FaultSchedule } from "../demo/fault_schedule.ts";
import { jaegerUiUrl, type RecentSpans, traceUrl as jaegerTraceUrl } from "../telemetry.ts";
import { apiRoutes, type RequestContext, type ServiceAbout } from "./api.ts";
import type { DemoHandlers, DemoPool } from "./demo_pool.ts";
import { errorResponse, HttpError } from "./http_json.ts";
import { inServerSpan } from "./http_span.ts";
import { METRICS_PATH, metricsResponse, metricsRoutes, type ScrapeMetrics } from "./metrics_route.ts";
import { pageRoutes } from "./page_files.ts";
import { Router } from "./router.ts";
import { crossSiteRefusal, hostRefusal, SECURITY_HEADERS } from "./browser_guard.ts";
import { relativeToProject } from "../util/project_path.ts";
import { rateLimitedLog } from "../util/rate_limited_log.ts";
import { requestUrl } from "./request_target.ts";

/** What the app is built from. */
export interface AppDeps {
  pool: DemoPool;
  /** The endpoints' work: `tracedHandlers(pool, faults)` in the service. */
  handlers: DemoHandlers;
  /** Which queries fail; shown on the page, restarted by reset. */
  faults: FaultSchedule;
  /** Where `/api/traces` reads spans from (setupTelemetry's `spans`). */
  spans: RecentSpans;
  /** Link for a trace id. @default lib/telemetry.ts traceUrl (JAEGER_UI_URL) */
  traceUrl?: (traceId: string) => string;
  /** Shown on the page. @default database "unknown", traces in memory only */
  about?: Partial<ServiceAbout>;
  /** Access log, one line per state-changing or failed request. @default no log */
  log?: (line: string) => void;
  /** Serves `GET /metrics` (Prometheus text format): setupTelemetry's `prometheusMetrics`. @default no /metrics */
  metrics?: ScrapeMetrics;
  /** How long a client may take to send a POST body before it gets 408. @default BODY_TIMEOUT_MS (5 s) */
  bodyTimeoutMs?: number;
  /** Host names served besides loopback ones, `*` for any (config.allowedHosts): see browser_guard.ts. @default none */
  allowedHosts?: readonly string[];
}

/** A `Deno.serve` handler. */
export type App = (request: Request, info?: Deno.ServeHandlerInfo) => Promise<Response>;

/**
 * Builds the service's request handler.
 *
 * @example
 * ```ts ignore
 * const app = createApp({ pool, handlers: tracedHandlers(pool, faults), faults, spans: telemetry.spans });
 * const response = await app(new Request("http://localhost/api/good", { method: "POST" }));
 * console.log(response.status, (await response.json()).pool);
 * ```
 */
export function createApp(deps: AppDeps): App {
  const traceUrl = deps.traceUrl ?? ((id: string) => jaegerTraceUrl(id));
  const router = new Router<RequestContext>([
    ...apiRoutes({
      pool: deps.pool,
      handlers: deps.handlers,
      faults: deps.faults,
      spans: deps.spans,
      traceUrl,
      bodyTimeoutMs: deps.bodyTimeoutMs,
      about: {
        database: "unknown",
        databaseSource: "other",
        exportingTo: undefined,
        jaegerUi: jaegerUiUrl(),
        ...deps.about,
      },
    }),
    ...pageRoutes<RequestContext>(),
    ...(deps.metrics ? metricsRoutes<RequestContext>(deps.metrics) : []),
  ]);
  const log = deps.log;
  const metrics = deps.metrics;
  const allowedHosts = deps.allowedHosts ?? [];

  // Refusals come from anyone (any web page can send them): said once in a while, with a count, never one per request.
  const refusalLog = log && rateLimitedLog(log);

  const handle: App = async (request, info) => {
    const started = performance.now();
    let url: URL;
    try {
      url = requestUrl(request);
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      // No span: nothing was routed, and a refused request must not push real traces out of the span store.
      // The message quotes the caller's text JSON-escaped and cut short: no terminal escapes, no megabyte lines.
      refusalLog?.("bad-target", `${boundedMethod(request)} refused before routing → 400: ${error.message}`);
      return await finish(request, errorResponse(error));
    }
    // Scrapes are not traced: a span per scrape, forever, would crowd out the requests worth reading. The Host
    // check still applies (a rebound name must not read the pool either): compose's Prometheus is allowed by name.
    if (metrics && url.pathname === METRICS_PATH && request.method === "GET") {
      const wrongHost = hostRefusal(url, allowedHosts);
      return await finish(request, wrongHost ? errorResponse(wrongHost) : await metricsResponse(metrics));
    }
    const match = router.match(request.method, url.pathname);
    const route = match.kind === "found" ? match.route.path : undefined;
    const response = await inServerSpan(deps.pool, request, url, route, async (span) => {
      try {
        const wrongHost = hostRefusal(url, allowedHosts);
        if (wrongHost) throw wrongHost;
        if (match.kind === "not-found") {
          throw new HttpError(404, `Nothing is served at ${url.pathname}. Endpoints: ${router.list().join(", ")}.`);
        }
        if (match.kind === "wrong-method") {
          const allow = match.allow.join(", ");
          throw new HttpError(405, `${url.pathname} accepts ${allow}, not ${boundedMethod(request)}.`, { allow });
        }
        const crossSite = crossSiteRefusal(request, url);
        if (crossSite) throw crossSite;
        return await match.route.handle({ request, url, span }, match.params);
      } catch (error) {
        if (error instanceof HttpError) return errorResponse(error);
        // A bug in the service itself: answer, keep serving, and keep the details in the trace and the log.
        const message = error instanceof Error ? error.message : String(error);
        const stack = relativeToProject((error as Error)?.stack ?? message);
        span.recordException(error instanceof Error ? { name: error.name, message, stack } : message);
        span.setStatus({ code: SpanStatusCode.ERROR, message });
        log?.(`Unexpected error on ${request.method} ${url.pathname}: ${stack}`);
        return errorResponse(new HttpError(500, `Internal error while handling ${url.pathname}: ${message}`));
      }
    }, info);
    if (log && ((request.method !== "GET" && request.method !== "HEAD") || response.status >= 400)) {
      const trace = response.headers.get("traceresponse")?.split("-")[1];
      const ms = (performance.now() - started).toFixed(1);
      const line = `${boundedMethod(request)} ${url.pathname} → ${response.status} in ${ms} ms (trace ${trace})`;
      if (response.status >= 400 && response.status < 500) refusalLog?.(String(response.status), line);
      else log(line);
    }
    return await finish(request, response);
  };
  // The last resort: whatever fails outside a route's own handling still gets a JSON answer with the security headers,
  // never Deno's plain-text 500 and a stack trace with absolute paths per request.
  return async (request, info) => {
    try {
      return await handle(request, info);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const stack = relativeToProject((error as Error)?.stack ?? message);
      refusalLog?.("internal", `Unexpected error on ${boundedMethod(request)}: ${stack}`);
      return await finish(request, errorResponse(new HttpError(500, `Internal error: ${message}`)));
    }
  };
}

/** Every answer leaves through here: the security headers on each, and HEAD without a body. */
async function finish(request: Request, response: Response): Promise<Response> {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) response.headers.set(name, value);
  return request.method === "HEAD" ? await withoutBody(response) : response;
}

/** The method as logged: a made-up one is the caller's text, so it is cut short. */
function boundedMethod(request: Request): string {
  return request.method.length > 16 ? `${request.method.slice(0, 16)}…` : request.method;
}

/** A HEAD answer: the GET answer's status and headers (Content-Length included), no body. */
async function withoutBody(response: Response): Promise<Response> {
  const headers = new Headers(response.headers);
  headers.set("content-length", String(response.body ? (await response.bytes()).byteLength : 0));
  return new Response(null, { status: response.status, headers });
}

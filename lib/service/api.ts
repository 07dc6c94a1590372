/**
 * The demo's JSON endpoints: the leaking and the fixed handler, the pool's
 * counters, reset, and the in-memory traces (so traces are visible with no
 * Jaeger running).
 *
 * | endpoint                  | answers                                                        |
 * |---------------------------|----------------------------------------------------------------|
 * | `POST /api/bad`           | `bad_query_with_leak`: 200 ok, 500 query failed, 503 exhausted |
 * | `POST /api/good`          | `good_query_no_leak`: same query and failures, no leak         |
 * | `GET  /api/pool`          | `pool.stats()`                                                 |
 * | `POST /api/reset`         | reclaims leaked connections, restarts the failure schedule     |
 * | `GET  /api/info`          | database (password hidden), faults, alert thresholds, Jaeger   |
 * | `GET  /api/traces`        | recent traces (`?limit=`, `?all=true` includes GET requests)   |
 * | `GET  /api/traces/:id`    | one trace's spans and events (`?format=html`: a waterfall)     |
 *
 * POST bodies are optional: none, or `{}`, sent as `Content-Type: application/json`
 * (browser_guard.ts refuses other types from anything but the page itself).
 *
 * @module
 */
import type { Span } from "@opentelemetry/api";
import { DatabaseConnectionError } from "../database.ts";
import type { FaultSchedule } from "../demo/fault_schedule.ts";
import { ALERT_THRESHOLDS, LEAK_SEARCH_TAGS, POOL_TRACE_HINTS, PoolEndedError, PoolExhaustedError } from "../pool.ts";
import { jaegerSearchUrl, type RecentSpans, summarizeTraces, viewTrace, waterfallHtml } from "../telemetry.ts";
import { ALERT_RULE_DEFAULTS, durationMs, poolAlertRules } from "./alert_rules.ts";
import type { DemoHandlers, DemoPool } from "./demo_pool.ts";
import { HttpError, json, readOptionalJsonObject } from "./http_json.ts";
import type { Route } from "./router.ts";

/** One request as endpoints see it: `span` is its HTTP server span. */
export interface RequestContext {
  request: Request;
  url: URL;
  span: Span;
}

/** What the service tells the page about itself. */
export interface ServiceAbout {
  /** The database URL with the password hidden. */
  database: string;
  databaseSource: "DATABASE_URL" | "embedded" | "other";
  /** Where traces are exported, or undefined when they stay in memory. */
  exportingTo: string | undefined;
  /** Jaeger UI base URL the trace links point at. */
  jaegerUi: string;
  /**
   * Whether that UI answered when the service started: links are offered only to traces that are
   * exported AND a UI that is there (something on the OTLP port says nothing about 16686).
   * @default true (whoever passes `exportingTo` without it vouches for the UI)
   */
  jaegerUiAnswers?: boolean;
  /** `service.name` and `service.instance.id` of this process, as on its spans and metrics. @default unknown */
  serviceName?: string;
  serviceInstanceId?: string;
}

/** What the endpoints work with. */
export interface ApiDeps {
  pool: DemoPool;
  handlers: DemoHandlers;
  faults: FaultSchedule;
  spans: RecentSpans;
  traceUrl: (traceId: string) => string;
  about: ServiceAbout;
  /** How long a client may take to send a POST body. @default BODY_TIMEOUT_MS */
  bodyTimeoutMs?: number;
}

/** How a handler's failure is answered. */
const FAILURES = [
  { type: PoolExhaustedError, status: 503, outcome: "pool exhausted" },
  { type: DatabaseConnectionError, status: 503, outcome: "database unavailable" },
  { type: PoolEndedError, status: 503, outcome: "service stopping" },
] as const;

const TRACE_ID = /^[0-9a-f]{32}$/;

/** The JSON endpoints as routes. */
export function apiRoutes(deps: ApiDeps): Route<RequestContext>[] {
  return [
    { method: "POST", path: "/api/bad", handle: (ctx) => runHandler(deps, ctx, "bad") },
    { method: "POST", path: "/api/good", handle: (ctx) => runHandler(deps, ctx, "good") },
    { method: "GET", path: "/api/pool", handle: () => json(deps.pool.stats()) },
    {
      method: "POST",
      path: "/api/reset",
      handle: async ({ request }) => {
        await readOptionalJsonObject(request, { timeoutMs: deps.bodyTimeoutMs });
        const reclaimed = deps.pool.reset();
        deps.faults.reset();
        return json({ ok: true, reclaimed, pool: deps.pool.stats() });
      },
    },
    { method: "GET", path: "/api/info", handle: () => json(info(deps)) },
    { method: "GET", path: "/api/traces", handle: ({ url }) => listTraces(deps, url) },
    { method: "GET", path: "/api/traces/:id", handle: ({ url }, params) => showTrace(deps, url, params.id) },
  ];
}

async function runHandler(deps: ApiDeps, { request, span }: RequestContext, which: "bad" | "good") {
  await readOptionalJsonObject(request, { timeoutMs: deps.bodyTimeoutMs });
  const { traceId } = span.spanContext();
  const about = {
    endpoint: which,
    handler: which === "bad" ? "bad_query_with_leak" : "good_query_no_leak",
    traceId,
    traceUrl: deps.traceUrl(traceId),
  };
  try {
    const readings = await deps.handlers[which]();
    return json({ ok: true, outcome: "ok", ...about, pool: deps.pool.stats(), readings });
  } catch (error) {
    const failure = FAILURES.find((f) => error instanceof f.type) ?? { status: 500, outcome: "query failed" };
    const message = error instanceof Error ? error.message : String(error);
    return json(
      { ok: false, outcome: failure.outcome, ...about, pool: deps.pool.stats(), error: message },
      failure.status,
    );
  }
}

/** Links into Jaeger only when traces reach it and its UI answers: no dead links. */
function linksToJaeger(about: ServiceAbout): boolean {
  return about.exportingTo !== undefined && about.jaegerUiAnswers !== false;
}

function info(deps: ApiDeps) {
  const { pool, faults, about } = deps;
  return {
    database: about.database,
    databaseSource: about.databaseSource,
    pool: { name: pool.name, max: pool.stats().max, acquireTimeoutMs: pool.acquireTimeoutMs },
    faults: faults.description,
    alerts: ALERT_THRESHOLDS,
    prometheus: prometheusInfo(about),
    jaeger: {
      exporting: about.exportingTo !== undefined,
      endpoint: about.exportingTo ?? null,
      ui: about.jaegerUi,
      linked: linksToJaeger(about),
    },
  };
}

/** What the page's alert panel needs: the rules of prometheus/alerts.yml and the leak search. */
function prometheusInfo(about: ServiceAbout) {
  return {
    metrics: "/metrics",
    rules: poolAlertRules().map(({ alert, labels }) => ({ alert, severity: labels.severity })),
    for: ALERT_RULE_DEFAULTS.for,
    window: ALERT_RULE_DEFAULTS.window,
    windowMs: durationMs(ALERT_RULE_DEFAULTS.window),
    service: about.serviceName ?? null,
    instance: about.serviceInstanceId ?? null,
    // A search in a Jaeger that receives nothing would come back empty: no link then.
    leakSearch: about.serviceName && linksToJaeger(about)
      ? jaegerSearchUrl(about.serviceName, LEAK_SEARCH_TAGS, about.jaegerUi)
      : null,
  };
}

function listTraces(deps: ApiDeps, url: URL): Response {
  const limitParam = url.searchParams.get("limit");
  const limit = limitParam === null ? 50 : Number(limitParam);
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) {
    throw new HttpError(400, `'limit' must be a whole number from 1 to 500: current value is "${limitParam}".`);
  }
  const all = url.searchParams.get("all") ?? "false";
  if (all !== "true" && all !== "false") {
    throw new HttpError(400, `'all' must be true or false: current value is "${all}".`);
  }
  // Page loads and polling are GET requests: leave them out unless asked, so the list shows the requests that matter.
  const summaries = summarizeTraces(deps.spans.spans(), all === "true" ? limit : 10_000)
    .filter((t) => all === "true" || !t.rootName.startsWith("GET"))
    .slice(0, limit);
  return json({ traces: summaries.map((t) => ({ ...t, traceUrl: deps.traceUrl(t.traceId) })) });
}

function showTrace(deps: ApiDeps, url: URL, id: string): Response {
  if (!TRACE_ID.test(id)) {
    throw new HttpError(
      400,
      `"${id}" is not a trace id: expected 32 lowercase hex digits, as in a response's traceId.`,
    );
  }
  const format = url.searchParams.get("format") ?? "json";
  if (format !== "json" && format !== "html") {
    throw new HttpError(400, `'format' must be json or html: current value is "${format}".`);
  }
  const spans = viewTrace(deps.spans.trace(id));
  if (spans.length === 0) {
    throw new HttpError(
      404,
      `No spans of trace ${id} are in memory: it is unknown, or older than the most recent spans kept. ` +
        `Look it up in Jaeger: ${deps.traceUrl(id)}`,
    );
  }
  const traceUrl = deps.traceUrl(id);
  if (format === "html") {
    const root = spans[0];
    return new Response(
      waterfallHtml(spans, {
        ...POOL_TRACE_HINTS,
        title: `${root.name} (${root.durationMs.toFixed(1)} ms)`,
        link: linksToJaeger(deps.about) ? traceUrl : undefined,
      }),
      {
        headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" },
      },
    );
  }
  return json({ traceId: id, traceUrl, spans });
}

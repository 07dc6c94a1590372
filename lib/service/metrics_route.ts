/**
 * `GET /metrics`: the pool's OpenTelemetry metrics in the Prometheus text
 * format, for Prometheus to scrape. Collected when asked (observable gauges
 * are read now), so serving them costs the request path nothing.
 *
 * @module
 */
import { PROMETHEUS_CONTENT_TYPE } from "../telemetry.ts";
import type { Route } from "./router.ts";

/** Reads every metric now, as a scrape body (telemetry.prometheusMetrics). */
export type ScrapeMetrics = () => Promise<string>;

/** The path Prometheus scrapes: its default `metrics_path`. */
export const METRICS_PATH = "/metrics";

/** Answers a scrape; a failed collection is a 500 whose body says why, as a Prometheus comment. */
export async function metricsResponse(scrape: ScrapeMetrics): Promise<Response> {
  try {
    return new Response(await scrape(), {
      headers: { "content-type": PROMETHEUS_CONTENT_TYPE, "cache-control": "no-store" },
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return new Response(`# Collecting the metrics failed: ${message}\n`, {
      status: 500,
      headers: { "content-type": PROMETHEUS_CONTENT_TYPE, "cache-control": "no-store" },
    });
  }
}

/** `GET /metrics` as a route (so the router lists it, and answers 405 to other methods). */
export function metricsRoutes<Ctx>(scrape: ScrapeMetrics): Route<Ctx>[] {
  return [{ method: "GET", path: METRICS_PATH, handle: () => metricsResponse(scrape) }];
}

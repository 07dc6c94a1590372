/**
 * Links into the Jaeger UI: one trace, and a search for traces that carry
 * given tags. The notebooks, the demo page, the terminal scenario and the
 * README all build their links here.
 *
 * @module
 */

/**
 * The Jaeger UI link for one trace.
 *
 * @param base the Jaeger UI. @default JAEGER_UI_URL, else http://localhost:16686
 * @example
 * ```ts
 * import { traceUrl } from "./jaeger_links.ts";
 * traceUrl("4bf92f3577b34da6a3ce929d0e0e4736", "http://localhost:16686");
 * // "http://localhost:16686/trace/4bf92f3577b34da6a3ce929d0e0e4736"
 * ```
 */
export function traceUrl(traceId: string, base = jaegerUiUrl()): string {
  return `${base.replace(/\/+$/, "")}/trace/${traceId}`;
}

/**
 * The Jaeger UI search link for traces of `service` whose spans carry `tags`.
 *
 * @example
 * ```ts
 * import { jaegerSearchUrl } from "./jaeger_links.ts";
 * jaegerSearchUrl("leak-lab", { error: "true" }, "http://localhost:16686");
 * // "http://localhost:16686/search?service=leak-lab&tags=%7B%22error%22%3A%22true%22%7D"
 * ```
 */
export function jaegerSearchUrl(service: string, tags: Record<string, string> = {}, base = jaegerUiUrl()): string {
  const query = new URLSearchParams({ service });
  if (Object.keys(tags).length > 0) query.set("tags", JSON.stringify(tags));
  return `${base.replace(/\/+$/, "")}/search?${query}`;
}

/**
 * The tag that marks a span which leaked a connection: set on the span of the
 * `pool.scope()` (the request, the notebook cell) that a lease outlived, and
 * on `connection_leak_detected`. A Jaeger search for it finds exactly the
 * leaking requests.
 */
export const LEAK_SEARCH_TAGS: Readonly<Record<string, string>> = Object.freeze({ "leaklab.leak": "true" });

/**
 * The Jaeger UI search for the traces of `service` that leaked a connection.
 *
 * @example
 * ```ts
 * import { leakSearchUrl } from "./jaeger_links.ts";
 * leakSearchUrl("leak-lab", "http://localhost:16686");
 * // "http://localhost:16686/search?service=leak-lab&tags=%7B%22leaklab.leak%22%3A%22true%22%7D"
 * ```
 */
export function leakSearchUrl(service: string, base = jaegerUiUrl()): string {
  return jaegerSearchUrl(service, LEAK_SEARCH_TAGS, base);
}

/** The Jaeger UI base URL: JAEGER_UI_URL, else http://localhost:16686. */
export function jaegerUiUrl(): string {
  return Deno.env.get("JAEGER_UI_URL") ?? "http://localhost:16686";
}

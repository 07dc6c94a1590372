/**
 * Links into the Jaeger UI: one trace, and a search for traces that carry
 * given tags. The notebooks, the demo page, the terminal scenario and the
 * README all build their links here.
 *
 * @module
 */
import { redactUrl } from "../util/redact.ts";

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
export function traceUrl(traceId: string, base: string = jaegerUiUrl()): string {
  return `${linkBase(base)}/trace/${traceId}`;
}

/**
 * The Jaeger UI search link for traces of `service` whose spans carry `tags`,
 * e.g. `LEAK_SEARCH_TAGS` from `lib/pool.ts` for the traces that leaked.
 *
 * @example
 * ```ts
 * import { jaegerSearchUrl } from "./jaeger_links.ts";
 * jaegerSearchUrl("leak-lab", { error: "true" }, "http://localhost:16686");
 * // "http://localhost:16686/search?service=leak-lab&tags=%7B%22error%22%3A%22true%22%7D"
 * ```
 */
export function jaegerSearchUrl(
  service: string,
  tags: Record<string, string> = {},
  base: string = jaegerUiUrl(),
): string {
  const query = new URLSearchParams({ service });
  if (Object.keys(tags).length > 0) query.set("tags", JSON.stringify(tags));
  return `${linkBase(base)}/search?${query}`;
}

/**
 * Whether Jaeger's UI answers at `base`: its query API (`GET /api/services`)
 * replies with JSON holding a `data` list within `timeoutMs`. Links into
 * Jaeger are shown only then: something answering on the OTLP port (a
 * Collector, say) says nothing about a UI on 16686.
 *
 * @param base the Jaeger UI. @default JAEGER_UI_URL, else http://localhost:16686
 * @example
 * ```ts ignore
 * import { jaegerUiAnswers } from "./jaeger_links.ts";
 * const link = await jaegerUiAnswers() ? traceUrl(traceId) : undefined;
 * ```
 */
export async function jaegerUiAnswers(base: string = jaegerUiUrl(), timeoutMs = 500): Promise<boolean> {
  try {
    const response = await fetch(`${base.replace(/\/+$/, "")}/api/services`, {
      signal: AbortSignal.timeout(timeoutMs),
      redirect: "manual",
    });
    const body = await response.json().catch(() => undefined);
    return response.ok && Array.isArray(body?.data);
  } catch {
    return false; // refused, timed out, or not a URL: no UI to link to
  }
}

/** The Jaeger UI base URL: JAEGER_UI_URL, else http://localhost:16686. */
export function jaegerUiUrl(): string {
  return withoutCredentials(Deno.env.get("JAEGER_UI_URL") ?? "http://localhost:16686");
}

function linkBase(base: string): string {
  return withoutCredentials(base).replace(/\/+$/, "");
}

/**
 * Links are shown on the page, in the banner and in /api/info, so they carry no user or password from JAEGER_UI_URL:
 * the browser asks for them when Jaeger wants them (and refuses URLs with credentials in some contexts anyway).
 */
function withoutCredentials(url: string): string {
  if (!url.includes("@")) return url;
  try {
    const parsed = new URL(url);
    parsed.username = "";
    parsed.password = "";
    return parsed.href;
  } catch {
    return redactUrl(url); // not a URL: shown hidden, as every other unparsable one
  }
}

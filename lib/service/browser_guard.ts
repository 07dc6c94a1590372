/**
 * What keeps other web pages out. Any page open in the user's browser can
 * send requests to http://127.0.0.1:9000 (cross-site request forgery), and a
 * page whose own host name it points at 127.0.0.1 can read the answers too
 * (DNS rebinding): either could exhaust the demo pool or read its traces.
 *
 * - **Host**: only loopback names (`localhost`, `*.localhost`, `127.0.0.0/8`,
 *   `[::1]`) and the names in the allow-list (`HOST`, `ALLOWED_HOSTS`) are
 *   served. A rebinding page's requests carry its own host name.
 * - **State-changing requests** (POST) need `Content-Type: application/json`,
 *   which a browser sends to another origin only after a CORS preflight that
 *   this service never approves, or a same-origin `Origin` / `Sec-Fetch-Site`.
 *   A request the browser marks as coming from another site is refused
 *   whatever its type.
 * - **Every response** says it may not be framed, sniffed or read by other
 *   origins, and the page may load scripts only from this service.
 *
 * @module
 */
import { HttpError } from "./http_json.ts";

/**
 * The page's scripts are its own files (`/app.js`, `/vendor/plotly.min.js`);
 * styles are its own file plus the inline ones plotly and the waterfall HTML
 * use; it fetches only from this service and may not be framed.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/** Headers on every response. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy": CONTENT_SECURITY_POLICY,
  "x-frame-options": "DENY",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cross-origin-resource-policy": "same-origin",
  // OWASP's recommended value: a page that opens this one (or that this one opens) gets no handle on its window.
  "cross-origin-opener-policy": "same-origin",
};

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** True for names that always reach this machine: `localhost`, `*.localhost`, 127.0.0.0/8 and `::1`. */
export function isLoopbackHost(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, "");
  return name === "localhost" || name.endsWith(".localhost") || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name) ||
    name === "[::1]" || name === "[::ffff:7f00:1]";
}

/**
 * Refuses a request whose `Host` is neither loopback nor allowed.
 * @param allowed extra host names (no port); `*` allows any
 */
export function hostRefusal(url: URL, allowed: readonly string[]): HttpError | undefined {
  const name = url.hostname.toLowerCase().replace(/\.$/, "");
  if (isLoopbackHost(name) || allowed.includes("*") || allowed.includes(name)) return undefined;
  return new HttpError(
    403,
    `Host "${url.host}" is not allowed: this service answers to loopback names (localhost, 127.0.0.1, [::1])` +
      `${allowed.length > 0 ? ` and ${allowed.join(", ")}` : ""}, so that no web page can reach it by pointing its ` +
      `own name at this machine (DNS rebinding). To reach it as "${name}", add it to ALLOWED_HOSTS (comma-separated).`,
  );
}

/** Refuses a state-changing request that a browser may have sent on another site's behalf. */
export function crossSiteRefusal(request: Request, url: URL): HttpError | undefined {
  if (SAFE_METHODS.has(request.method)) return undefined;
  const what = `${request.method} ${url.pathname}`;
  const origin = request.headers.get("origin");
  const site = request.headers.get("sec-fetch-site");
  if (origin !== null && origin !== url.origin) {
    return new HttpError(
      403,
      `${what} from another origin (${origin}) is refused: only this service's own page (${url.origin}) may send it.`,
    );
  }
  if (site !== null && site !== "same-origin" && site !== "none") {
    return new HttpError(403, `${what} from a ${site} page is refused: only this service's own page may send it.`);
  }
  if (origin === url.origin || site === "same-origin") return undefined;
  const type = request.headers.get("content-type")?.split(";")[0].trim().toLowerCase();
  if (type === "application/json") return undefined;
  return new HttpError(
    415,
    `${what} needs Content-Type: application/json (a type no other web page can send from your browser), ` +
      `not ${type ? `"${type}"` : "none"}. For example: curl -X POST -H 'content-type: application/json' ${url.href}`,
  );
}

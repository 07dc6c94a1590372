/**
 * The request's URL, read so that the Host header names the server and
 * never the resource. `Deno.serve` builds `request.url` from the Host header
 * and the request target: a Host of `127.0.0.1/api/reset#` made
 * `POST /api/good` read as `http://127.0.0.1/api/reset#/api/good`, a reset,
 * and one that is no URL authority at all (`a b`, `[::1`) made `new URL()`
 * throw. A Host is therefore checked to be `host[:port]` first (RFC 9110
 * §7.2, the RFC 9112 §3.2 400 for an invalid one): with no `/`, `?`, `#` or
 * `@` in the authority, the path is exactly the request target's. A path the
 * URL parser would rewrite (dot segments, `\`) is refused too: a proxy in
 * front may read it differently.
 *
 * @module
 */
import { redactUrl } from "../util/redact.ts";
import { HttpError } from "./http_json.ts";

/** A DNS-style name or IPv4 address (labels of letters, digits, `-`, `_`), or a bracketed IPv6 literal. */
const HOST_NAME = /^(?:[a-z0-9_-]+(?:\.[a-z0-9_-]+)*\.?|\[[0-9a-f:.]+\])$/i;
const PORT = /^\d{0,5}$/;

/**
 * True when `value` is a syntactically valid `host[:port]`: what a Host
 * header may hold. Names beyond letters, digits, `.`, `-`, `_` (RFC 3986
 * allows `!$&'()*+,;=` and `%XX` in a reg-name) are refused: no client of a
 * local development server needs them, and an allow-list is the safe side.
 *
 * @example
 * ```ts
 * import { isValidHost } from "./request_target.ts";
 * isValidHost("127.0.0.1:9000"); // true
 * isValidHost("127.0.0.1/api/reset#"); // false
 * ```
 */
export function isValidHost(value: string): boolean {
  if (value.length === 0 || value.length > 261) return false; // 253 for the name, 8 for ":" + port and brackets
  const colon = value.startsWith("[") ? value.indexOf("]") + 1 : value.indexOf(":");
  const [host, port] = colon > 0 && colon < value.length
    ? [value.slice(0, colon), value.slice(colon)]
    : [value, undefined];
  if (!HOST_NAME.test(host)) return false;
  if (port !== undefined && !(port.startsWith(":") && PORT.test(port.slice(1)) && Number(port.slice(1)) <= 65_535)) {
    return false;
  }
  if (!host.startsWith("[")) return true;
  try {
    new URL(`http://${host}/`); // the IPv6 grammar, checked by the URL parser
    return true;
  } catch {
    return false;
  }
}

/** Longest part of a refused Host or path quoted back to the caller. */
const QUOTED_CHARS = 100;

/**
 * The request's URL, its path taken from the request target alone.
 *
 * @throws {HttpError} 400 when the Host header (or the authority of an
 *   absolute-form target) is not a valid `host[:port]`, or the path is not
 *   in canonical form
 */
export function requestUrl(request: Request): URL {
  const host = request.headers.get("host");
  // An empty Host is what a client sends for a URI without authority; Deno then uses its own address.
  if (host !== null && host !== "" && !isValidHost(host)) throw badHost(host);
  const raw = request.url;
  const scheme = /^https?:\/\//.exec(raw)?.[0];
  const authority = scheme ? raw.slice(scheme.length).split(/[/?#]/, 1)[0] : raw;
  if (!scheme || !isValidHost(authority)) throw badHost(authority);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw badHost(authority);
  }
  // The URL parser resolves `.`, `..` and `%2e` segments and reads `\` as `/`; a proxy in front may not (nginx keeps
  // `\`), so a rule that keeps a path private could be walked around. Browsers send canonical paths: refuse the rest.
  const path = raw.slice(scheme.length + authority.length).split(/[?#]/, 1)[0] || "/";
  if (path !== url.pathname) {
    throw new HttpError(
      400,
      `The request path ${quote(path)} is not in canonical form (it has "." or ".." segments, a backslash, or ` +
        `characters that must be percent-encoded): send ${quote(url.pathname)} instead.`,
    );
  }
  return url;
}

/** The caller's text as a JSON string, cut short, with <, > and & escaped too: no reader should find markup in it. */
function quote(value: string): string {
  return JSON.stringify(value.slice(0, QUOTED_CHARS)).replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`) +
    (value.length > QUOTED_CHARS ? "…" : "");
}

/** The 400 for a Host that is no `host[:port]`; a user and password in it are hidden, as in every message. */
function badHost(value: string): HttpError {
  const shown = quote(redactUrl(value));
  return new HttpError(
    400,
    `${shown} is not a valid Host header: send the server's host[:port] (for example 127.0.0.1:9000 or ` +
      `localhost:9000), with no path, query, user or spaces in it.`,
  );
}

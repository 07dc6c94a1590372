/**
 * Hides the password in a connection URL so it can be printed, logged or
 * put on a span. Works on malformed URLs too, because those are exactly the
 * ones that end up in error messages.
 *
 * @example
 * ```ts
 * import { redactUrl } from "./redact.ts";
 * redactUrl("postgres://app:s3cret@db:5432/shop"); // "postgres://app:***@db:5432/shop"
 * ```
 */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    for (const key of [...parsed.searchParams.keys()]) {
      if (/pass/i.test(key)) parsed.searchParams.set(key, "***");
    }
    return parsed.toString().replace("%2A%2A%2A", "***");
  } catch {
    // Not a URL we can parse: blank anything between "://user:" and the last "@".
    return url.replace(/(\/\/[^:/@]*:)[^/]*@/, "$1***@");
  }
}

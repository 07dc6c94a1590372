/**
 * Hides what may be a secret in a connection string or URL so it can be
 * printed, logged, shown on the page or put on a span. It works on the text,
 * not on a parsed URL, because the strings that end up in error messages are
 * the malformed ones: a password with `/`, `?`, `#` or `@` in it, a libpq
 * `key=value` string, a URL pasted with its variable name.
 *
 * - Everything between `scheme://` (or the start) and the **last** `@` is
 *   userinfo: the user name stays when it is a plain name followed by `:`,
 *   the rest becomes `***`. Userinfo without a `:` stays for `postgres://`
 *   (a role name) and is hidden elsewhere (an OTLP endpoint's token).
 * - The value of every `password=`, `passwd=`, `pwd=`, `secret=`, `token=` or
 *   `apikey=`-like key, quoted or not, becomes `***`.
 *
 * @example
 * ```ts
 * import { redactUrl } from "./redact.ts";
 * redactUrl("postgres://app:s3cret@db:5432/shop"); // "postgres://app:***@db:5432/shop"
 * redactUrl("postgres://app:s3/cr#et@db/shop"); // "postgres://app:***@db/shop"
 * redactUrl("host=db user=app password='s3 cret'"); // "host=db user=app password=***"
 * redactUrl("http://user:token@collector:4318"); // "http://user:***@collector:4318"
 * ```
 */
export function redactUrl(text: string): string {
  let shown = text;
  const at = text.lastIndexOf("@");
  if (at >= 0) {
    const scheme = /^\s*[a-z][a-z0-9+.-]*:\/\//i.exec(text)?.[0] ?? "";
    shown = `${scheme}${hideUserinfo(scheme, text.slice(scheme.length, at))}${text.slice(at)}`;
  }
  return shown.replace(SECRET_VALUE, "$1***");
}

/** `key=value` where the key names a secret; the value runs to the next separator, or is quoted. */
const SECRET_VALUE =
  /((?:^|[\s?&;,])[\w.-]*(?:pass|pwd|secret|token|apikey|api_key|auth)[\w.-]*\s*=\s*)('(?:[^'\\]|\\.)*'?|"(?:[^"\\]|\\.)*"?|[^\s&;,]*)/gi;

function hideUserinfo(scheme: string, userinfo: string): string {
  const colon = userinfo.indexOf(":");
  const user = colon >= 0 ? userinfo.slice(0, colon) : userinfo;
  const plainName = /^[\w.%~-]*$/.test(user);
  if (colon >= 0) return plainName ? `${user}:***` : "***";
  return plainName && /^\s*postgres(ql)?:/i.test(scheme) ? user : "***";
}

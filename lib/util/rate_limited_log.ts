/**
 * A log that says each kind of line once in a while, with a count, so that a
 * flood (any web page can send a local server thousands of bad requests)
 * cannot drown the lines that matter or fill a disk (OWASP's Logging Cheat
 * Sheet: log injection and flooding). No timer: the count is told with the
 * next line of its kind once the interval has passed.
 *
 * @example
 * ```ts
 * import { rateLimitedLog } from "./rate_limited_log.ts";
 * const lines: string[] = [];
 * let now = 0;
 * const log = rateLimitedLog((line) => lines.push(line), { intervalMs: 1_000, now: () => now });
 * log("404", "GET /a → 404");
 * log("404", "GET /b → 404"); // held back
 * now = 1_000;
 * log("404", "GET /c → 404");
 * console.log(lines); // ["GET /a → 404", "GET /c → 404 (and 1 more like it in the last 1 s)"]
 * ```
 *
 * @module
 */

/** Options for {@linkcode rateLimitedLog}. */
export interface RateLimitOptions {
  /** Least time between two lines of one kind. @default 10000 */
  intervalMs?: number;
  /** The clock, in milliseconds. @default performance.now */
  now?: () => number;
}

/** Logs `line` unless a line of the same `kind` was logged less than the interval ago. */
export type RateLimitedLog = (kind: string, line: string) => void;

/**
 * Wraps `log`; `kind`s should come from a small fixed set (a status code, a
 * reason), never from the request, or the table of kinds would grow with it.
 */
export function rateLimitedLog(
  log: (line: string) => void,
  { intervalMs = 10_000, now = () => performance.now() }: RateLimitOptions = {},
): RateLimitedLog {
  const kinds = new Map<string, { last: number; held: number }>();
  return (kind, line) => {
    const at = now();
    const seen = kinds.get(kind);
    if (seen && at - seen.last < intervalMs) {
      seen.held++;
      return;
    }
    const held = seen?.held ?? 0;
    const seconds = seen ? Math.round((at - seen.last) / 1_000) : 0;
    kinds.set(kind, { last: at, held: 0 });
    log(held > 0 ? `${line} (and ${held} more like it in the last ${seconds} s)` : line);
  };
}

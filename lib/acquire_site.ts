/**
 * Where a connection was acquired, read from an `Error` captured at acquire.
 *
 * Capturing is cheap (a few µs); formatting `.stack` costs ~25 µs, so the
 * pool captures on every acquire but calls these only when it reports a leak
 * or an exhausted pool.
 *
 * @module
 */

const LIBRARY_FILES = ["pool.ts", "lease.ts", "acquire_site.ts"].map((file) =>
  new URL(`./${file}`, import.meta.url).href
);
// `<anonymous>` is code evaluated by the runtime: a Deno Jupyter cell or the REPL.
const FRAME_LOCATION = /\(?((?:file|https?|npm|jsr):[^\s()]+?|<anonymous>):(\d+):(\d+)\)?\s*$/;

/** The acquiring code's stack frames, with the pool's own frames and runtime internals removed. */
export function acquireStack(captured: Error): string {
  return (captured.stack ?? "")
    .split("\n")
    .slice(1)
    .filter((line) => {
      const location = FRAME_LOCATION.exec(line)?.[1];
      return location !== undefined && !LIBRARY_FILES.includes(location);
    })
    .map((line) => `    ${line.trim()}`)
    .join("\n");
}

/**
 * The first caller frame as `path:line:column`, relative to the working
 * directory when inside it.
 *
 * @example
 * ```ts
 * import { acquireSite } from "./acquire_site.ts";
 * const site = acquireSite(new Error());
 * console.log(site); // e.g. "lib/acquire_site.ts:8:26" for a caller in this folder
 * ```
 */
export function acquireSite(captured: Error): string {
  const first = FRAME_LOCATION.exec(acquireStack(captured).split("\n")[0] ?? "");
  if (!first) return "(unknown)";
  const cwd = `file://${Deno.cwd()}/`;
  const file = first[1] === "<anonymous>"
    ? "notebook cell"
    : first[1].startsWith(cwd)
    ? first[1].slice(cwd.length)
    : first[1];
  return `${file}:${first[2]}:${first[3]}`;
}

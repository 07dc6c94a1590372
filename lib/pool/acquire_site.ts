/**
 * Where a connection was acquired, read from an `Error` captured at acquire.
 *
 * Capturing is cheap (a few µs); formatting `.stack` costs ~25 µs, so the
 * pool captures on every acquire but calls these only when it reports a leak
 * or an exhausted pool.
 *
 * @module
 */
import { projectPath, relativeToProject } from "../util/project_path.ts";

// The pool's own files: lib/pool.ts and everything in lib/pool/. Frames in
// them are how the caller got to acquire(), never where it was called.
const POOL_FRONT_DOOR = new URL("../pool.ts", import.meta.url).href;
const POOL_PARTS = new URL("./", import.meta.url).href;
const inPool = (location: string) => location === POOL_FRONT_DOOR || location.startsWith(POOL_PARTS);
// `<anonymous>` is code evaluated by the runtime: a Deno Jupyter cell or the REPL.
const FRAME_LOCATION = /\(?((?:file|https?|npm|jsr):[^\s()]+?|<anonymous>):(\d+):(\d+)\)?\s*$/;

/**
 * The acquiring code's stack frames, with the pool's own frames and runtime
 * internals removed, and paths relative to the project (see `acquireSite`).
 */
export function acquireStack(captured: Error): string {
  return callerFrames(captured).map((line) => `    ${relativeToProject(line.trim())}`).join("\n");
}

function callerFrames(captured: Error): string[] {
  return (captured.stack ?? "")
    .split("\n")
    .slice(1)
    .filter((line) => {
      const location = FRAME_LOCATION.exec(line)?.[1];
      return location !== undefined && !inPool(location);
    });
}

/**
 * The first caller frame as `path:line:column`: relative to the project
 * (the folder holding `lib/`) for the project's own files, else to the
 * working directory, else as the runtime gave it. Relative paths keep
 * spans, logs and the demo page from exposing where the project sits on
 * disk, and read the same from a notebook kernel (whose working directory
 * is `notebooks/`) as from the repository root.
 *
 * @example
 * ```ts
 * import { acquireSite } from "./acquire_site.ts";
 * const site = acquireSite(new Error());
 * console.log(site); // the caller's file:line:column, e.g. "lib/demo/query_handlers.ts:16:29"
 * ```
 */
export function acquireSite(captured: Error): string {
  const first = FRAME_LOCATION.exec(callerFrames(captured)[0] ?? "");
  if (!first) return "(unknown)";
  return `${displayPath(first[1])}:${first[2]}:${first[3]}`;
}

function displayPath(location: string): string {
  return location === "<anonymous>" ? "notebook cell" : projectPath(location);
}

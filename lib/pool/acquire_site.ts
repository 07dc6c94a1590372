/**
 * Where a connection was acquired, read from an `Error` captured at acquire,
 * and when to capture one.
 *
 * A capture (`new Error()`) costs 10–16 µs in a busy pool under Deno 2.9,
 * the largest single cost of the pool's tracing, and formatting its `.stack`
 * far more; so the pool captures as its {@linkcode AcquireSitePolicy} says
 * and formats a stack only when it reports a leak or an exhausted pool.
 *
 * @module
 */
import { projectPath, relativeToProject } from "../util/project_path.ts";
import type { AcquireSitePolicy } from "./options.ts";

/** How long, after a leak or an exhaustion, the "adaptive" policy keeps capturing acquire sites. */
const CAPTURE_AFTER_TROUBLE_MS = 10 * 60_000;

/**
 * Whether an acquire captures its site, under a pool's policy: "always",
 * "never", or "adaptive": while the pool has leaked connections, and for 10
 * minutes after a leak or an exhaustion. A pool that is merely busy (full,
 * but giving connections back) pays nothing.
 *
 * @example
 * ```ts
 * import { SiteCapture } from "./acquire_site.ts";
 * const capture = new SiteCapture("adaptive");
 * console.log(capture.wanted(performance.now(), 0)); // false: a healthy pool
 * capture.troubleAt(performance.now()); // a leak, or an exhausted pool
 * console.log(capture.wanted(performance.now(), 0)); // true, for the next 10 minutes
 * ```
 */
export class SiteCapture {
  #until = 0;

  constructor(readonly policy: AcquireSitePolicy) {}

  /** Whether an acquire at `now` (a `performance.now()` reading) captures, with `leaked` leases out. */
  wanted(now: number, leaked: number): boolean {
    if (this.policy !== "adaptive") return this.policy === "always";
    return leaked > 0 || now < this.#until;
  }

  /** A leak or an exhaustion at `now`: "adaptive" captures every site for the next 10 minutes. */
  troubleAt(now: number): void {
    this.#until = now + CAPTURE_AFTER_TROUBLE_MS;
  }

  /** Why a lease without a site has none, for its reports. */
  get whyNotCaptured(): string {
    return this.policy === "never"
      ? `captureAcquireSites is "never"`
      : `the pool was healthy when it was acquired; captureAcquireSites is "adaptive"`;
  }
}

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
 * The first caller frame outside `node_modules` (an ORM's own frames are
 * skipped; the whole stack keeps them) as `path:line:column`: relative to the project
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
  const frames = callerFrames(captured);
  // Through an ORM (Kysely, Drizzle) the nearest caller is the ORM: name the application's line that called it.
  const own = frames.find((line) => !/\/node_modules\/|\(?npm:|\(ext:|\(node:/.test(line)) ?? frames[0];
  const first = FRAME_LOCATION.exec(own ?? "");
  if (!first) return "(unknown)";
  return `${displayPath(first[1])}:${first[2]}:${first[3]}`;
}

function displayPath(location: string): string {
  return location === "<anonymous>" ? "notebook cell" : projectPath(location);
}

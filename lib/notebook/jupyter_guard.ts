/**
 * Catches errors that escape a notebook cell, so they fail the run instead of
 * vanishing.
 *
 * In the Deno kernel an un-awaited rejected promise, or a throw inside a
 * timer, does not fail the cell that caused it (measured: `nbconvert
 * --execute` exits 0), and an uncaught timer error stalled the kernel for
 * about 30 s. The guard listens for both, keeps the errors, and `check()`
 * throws them: the notebook cell wrapper calls it before and after each cell,
 * and the last cell of every notebook calls it once more.
 *
 * @example
 * ```ts
 * import { ErrorGuard } from "./jupyter_guard.ts";
 * const guard = new ErrorGuard().install();
 * guard.check(); // nothing escaped yet: returns
 * guard.uninstall();
 * ```
 *
 * @module
 */

/** One or more errors escaped earlier cells (un-awaited promises or timers). */
export class EscapedErrorsError extends Error {
  /** @param errors what escaped, oldest first */
  constructor(readonly errors: unknown[]) {
    const listed = errors.map((error) => `  - ${error instanceof Error ? `${error.name}: ${error.message}` : error}`);
    super(
      `${errors.length} error(s) escaped a cell without failing it (an un-awaited promise or a throw inside a timer):\n` +
        `${listed.join("\n")}\nAwait every promise a cell starts, and catch errors inside timer callbacks.`,
      { cause: errors[0] },
    );
    this.name = "EscapedErrorsError";
  }
}

/** Records uncaught errors and unhandled rejections until checked. */
export class ErrorGuard {
  #escaped: unknown[] = [];
  #installed = false;

  readonly #onRejection = (event: PromiseRejectionEvent) => {
    event.preventDefault(); // keep the kernel alive; check() reports it
    this.#escaped.push(event.reason);
  };

  readonly #onError = (event: ErrorEvent) => {
    event.preventDefault();
    this.#escaped.push(event.error ?? event.message);
  };

  /** Starts listening on `globalThis`; calling it again does nothing. */
  install(): this {
    if (this.#installed) return this;
    globalThis.addEventListener("unhandledrejection", this.#onRejection);
    globalThis.addEventListener("error", this.#onError);
    this.#installed = true;
    return this;
  }

  /** Stops listening (tests; a notebook keeps its guard for the kernel's life). */
  uninstall(): void {
    globalThis.removeEventListener("unhandledrejection", this.#onRejection);
    globalThis.removeEventListener("error", this.#onError);
    this.#installed = false;
  }

  /** Whether the guard is listening. */
  get installed(): boolean {
    return this.#installed;
  }

  /**
   * Throws what escaped since the last check, then forgets it.
   * @throws {EscapedErrorsError} when anything escaped
   */
  check(): void {
    if (this.#escaped.length === 0) return;
    const escaped = this.#escaped;
    this.#escaped = [];
    throw new EscapedErrorsError(escaped);
  }
}

let shared: ErrorGuard | undefined;

/** The kernel-wide guard, installed on first use (re-running a setup cell reuses it). */
export function sharedErrorGuard(): ErrorGuard {
  shared ??= new ErrorGuard();
  return shared.install();
}

/** Lets pending rejections and zero-delay timers fire, so `check()` sees what a cell just did. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * Every name the pool writes into traces, once: span names, event names and
 * the attributes a search needs. The pool, the trace views and every Jaeger
 * link read them from here (tests spell them out on purpose: they pin the
 * names a learner sees).
 *
 * @example
 * ```ts
 * import { LEAK_SEARCH_TAGS, POOL_EVENTS, POOL_SPANS } from "./trace_names.ts";
 * console.log(POOL_SPANS.acquire, POOL_EVENTS.leaked, LEAK_SEARCH_TAGS); // get_connection connection_leaked { "leaklab.leak": "true" }
 * ```
 *
 * @module
 */

/** The names of the spans the pool starts (the values of {@linkcode POOL_SPANS}). */
export interface PoolSpanNames {
  /** `pool.acquire()`. */
  readonly acquire: "get_connection";
  /** `lease.query()`. */
  readonly query: "database.query";
  /** `lease.release()`. */
  readonly release: "return_connection";
  /** A lease held past `leakThresholdMs`. */
  readonly leakDetected: "connection_leak_detected";
  /** The server closed a leased connection. */
  readonly lost: "connection_lost";
  /** `pool.reset()`. */
  readonly reset: "pool.reset";
}

/** The spans the pool starts, as in the original demo. */
export const POOL_SPANS: PoolSpanNames = Object.freeze(
  {
    /** `pool.acquire()`: waiting for and taking a connection. */
    acquire: "get_connection",
    /** `lease.query()`. */
    query: "database.query",
    /** `lease.release()`. */
    release: "return_connection",
    /**
     * A lease held past `leakThresholdMs`, in the trace that acquired it; also
     * any leak of a request whose own spans were not sampled.
     */
    leakDetected: "connection_leak_detected",
    /** The server closed a leased connection. */
    lost: "connection_lost",
    /** `pool.reset()`. */
    reset: "pool.reset",
  } as const,
);

/** The names of the events the pool records (the values of {@linkcode POOL_EVENTS}). */
export interface PoolEventNames {
  /** On `get_connection`. */
  readonly acquired: "connection_acquired";
  /** On `database.query`. */
  readonly queryError: "query_error";
  /** On `return_connection`. */
  readonly returned: "connection_returned_safely";
  /** On the span a lease outlived, or on `connection_leak_detected`. */
  readonly leaked: "connection_leaked";
  /** On `return_connection`, for a lease reported leaked. */
  readonly unleaked: "connection_unleaked";
  /** On `return_connection`, when `release()` is called twice. */
  readonly doubleRelease: "connection_double_release";
  /** On `pool.reset`. */
  readonly reclaimed: "connections_reclaimed";
}

/** The events the pool records on its spans. */
export const POOL_EVENTS: PoolEventNames = Object.freeze(
  {
    /** On `get_connection`: the lease and the pool's counts. */
    acquired: "connection_acquired",
    /** On `database.query`: the SQLSTATE and message. */
    queryError: "query_error",
    /** On `return_connection`: the lease and the pool's counts. */
    returned: "connection_returned_safely",
    /** On the span a lease outlived (its scope), or on `connection_leak_detected`. */
    leaked: "connection_leaked",
    /** On `return_connection`, when a lease reported leaked comes back after all. */
    unleaked: "connection_unleaked",
    /** On `return_connection`, when `release()` is called twice. */
    doubleRelease: "connection_double_release",
    /** On `pool.reset`. */
    reclaimed: "connections_reclaimed",
  } as const,
);

/** What each event means to a reader of the trace (the waterfalls colour them so). */
export const POOL_EVENT_KINDS: Readonly<Record<string, "leak" | "error" | "ok" | "info">> = Object.freeze({
  [POOL_EVENTS.acquired]: "info",
  [POOL_EVENTS.queryError]: "error",
  [POOL_EVENTS.returned]: "ok",
  [POOL_EVENTS.leaked]: "leak",
  [POOL_EVENTS.unleaked]: "ok",
  [POOL_EVENTS.doubleRelease]: "error",
  [POOL_EVENTS.reclaimed]: "info",
});

/**
 * A span attribute, `true` on every span that leaked a connection: the scope
 * a lease outlived (a request, a notebook cell), the `get_connection` of a
 * lease that arrived after its scope ended, and `connection_leak_detected`.
 * Jaeger's tag search matches span and event attributes, never an event's
 * name, so this attribute is what finds the leaks.
 */
export const LEAK_ATTRIBUTE = "leaklab.leak";

/**
 * A span attribute, `true` on a `get_connection` that timed out because the
 * pool was exhausted. Like leaks, exhaustions are exported even from requests
 * the sampler left out.
 */
export const EXHAUSTED_ATTRIBUTE = "leaklab.exhausted";

/**
 * The Jaeger tag search that finds exactly the leaking spans: pass it to
 * `jaegerSearchUrl(service, LEAK_SEARCH_TAGS)` from `lib/telemetry.ts`.
 * (Tempo's TraceQL equivalent: `{ span.leaklab.leak = true }`.)
 */
export const LEAK_SEARCH_TAGS: Readonly<Record<string, string>> = Object.freeze({ [LEAK_ATTRIBUTE]: "true" });

/** What a trace view needs to highlight the pool's spans: pass it to `waterfallHtml()` / `waterfallText()`. */
export const POOL_TRACE_HINTS: {
  readonly leakAttribute: typeof LEAK_ATTRIBUTE;
  readonly eventKinds: typeof POOL_EVENT_KINDS;
  readonly leakMissingSpan: PoolSpanNames["release"];
} = Object.freeze({
  leakAttribute: LEAK_ATTRIBUTE,
  eventKinds: POOL_EVENT_KINDS,
  leakMissingSpan: POOL_SPANS.release,
});

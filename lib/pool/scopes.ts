/**
 * How `pool.scope()` tells its leases apart from everyone else's: the scope
 * rides in the OpenTelemetry context beside its span (one context layer for
 * both), so an `acquire()` anywhere under it, after any number of awaits,
 * finds it. A scope is the request's sampling decision too: its span asks the
 * sampler once, and the leases of an unsampled scope start no spans.
 *
 * @module
 */
import { type Context, context, createContextKey, type Span, type SpanContext, trace } from "@opentelemetry/api";
import type { LeakScope, Lease } from "./lease.ts";
import { NOT_RECORDING } from "./pool_spans.ts";

/** Where a scope is kept: in the OpenTelemetry context, beside the scope's span. */
const SCOPE = createContextKey("leak-lab.pool.scope");

/** A scope about to run, and the context and span its function runs with. */
export interface OpenedScope {
  scope: LeakScope;
  /** The parent's context with the scope (and its span, if any) in it. */
  inScope: Context;
  /** What the scope's function is given: its span, else a non-recording one in the request's trace. */
  given: Span;
}

/** A scope named `name` under `parent`, with `span` (none while no SDK is installed). */
export function openScope(name: string, span: Span | undefined, parent: Context): OpenedScope {
  const request = span ? span.spanContext() : requestOf(parent);
  const scope: LeakScope = { name, span, traced: span?.isRecording() ?? false, trace: request, open: 0, ended: false };
  const inScope = (span ? trace.setSpan(parent, span) : parent).setValue(SCOPE, scope);
  return { scope, inScope, given: span ?? (request ? trace.wrapSpanContext(request) : NOT_RECORDING) };
}

/** The scope `active` runs in, if any. */
export function scopeOf(active: Context = context.active()): LeakScope | undefined {
  return active.getValue(SCOPE) as LeakScope | undefined;
}

/** Counts `lease` in `scope` until it comes back. */
export function enterScope(lease: Lease, scope: LeakScope): void {
  scope.open++;
  lease.scope = scope;
}

/** Takes `lease` out of the scope it was counted in, if any. */
export function leaveScope(lease: Lease): void {
  if (!lease.scope) return;
  lease.scope.open--;
  lease.scope = undefined;
}

/** The span context of the request running in `active`, if a trace knows of it (never the all-zero one). */
export function requestOf(active: Context): SpanContext | undefined {
  const spanContext = trace.getSpanContext(active);
  return spanContext && trace.isSpanContextValid(spanContext) ? spanContext : undefined;
}

/**
 * Calls `late` if `lease`, acquired after its scope ended, is still out and
 * unreported `graceMs` later. Background work started in a request (a timer,
 * a fire-and-forget `pool.query()`) looks the same at first, and returns its
 * connection within the grace.
 */
export function watchLateArrival(lease: Lease, graceMs: number, late: () => void): void {
  const timer = setTimeout(() => lease.state === "active" && !lease.leaked && late(), graceMs);
  Deno.unrefTimer(timer); // a forgotten pool must not keep a script alive for this
}

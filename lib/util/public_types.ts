/**
 * The third-party types that Leak Lab's public signatures use, as aliases
 * with docs of their own. `deno doc --lint` counts a type imported from an
 * npm package as private, and a plain re-export makes it lint the whole
 * package's declarations; an alias keeps our docs about our API. Each is
 * exactly the library's type: a value of one is a value of the other.
 *
 * @module
 */
import type * as otel from "@opentelemetry/api";
import type * as sdk from "@opentelemetry/sdk-trace-base";
// @ts-types="@types/pg"
import type * as pg from "pg";

/** Span or event attributes (`@opentelemetry/api`). */
export type Attributes = otel.Attributes;
/** An OpenTelemetry context (`@opentelemetry/api`). */
export type Context = otel.Context;
/** A link from one span to another (`@opentelemetry/api`). */
export type Link = otel.Link;
/** An OpenTelemetry meter (`@opentelemetry/api`), e.g. `metrics.getMeter("app")`. */
export type Meter = otel.Meter;
/** An OpenTelemetry span (`@opentelemetry/api`). */
export type Span = otel.Span;
/** The ids of a span and its trace (`@opentelemetry/api`). */
export type SpanContext = otel.SpanContext;
/** A span's kind: INTERNAL, SERVER, CLIENT, … (`@opentelemetry/api`). */
export type SpanKind = otel.SpanKind;
/** An OpenTelemetry tracer (`@opentelemetry/api`), e.g. `trace.getTracer("app")`. */
export type Tracer = otel.Tracer;

/** A head sampler (`@opentelemetry/sdk-trace-base`). */
export type Sampler = sdk.Sampler;
/** A sampler's decision (`@opentelemetry/sdk-trace-base`). */
export type SamplingResult = sdk.SamplingResult;
/** A finished span as the SDK keeps it (`@opentelemetry/sdk-trace-base`). */
export type ReadableSpan = sdk.ReadableSpan;
/** The SDK's own span, as a span processor sees it start (`@opentelemetry/sdk-trace-base`). */
export type SdkSpan = sdk.Span;
/** Sees every span start and end (`@opentelemetry/sdk-trace-base`). */
export type SpanProcessor = sdk.SpanProcessor;

/** One row of a query's result (`pg`). */
export type QueryResultRow = pg.QueryResultRow;
/** node-postgres' pool (`pg`): a `TracedPool` is one. */
export type PgPool = pg.Pool;
/** node-postgres' pool options (`pg`): a `TracedPool` takes every one. */
export type PgPoolConfig = pg.PoolConfig;
/** A client checked out of a pool (`pg`), as `pool.connect()` gives it. */
export type PgPoolClient = pg.PoolClient;
/** A result column's description (`pg`). */
export type FieldDef = pg.FieldDef;
/**
 * A query's result, field for field pg's `QueryResult` (declared here, not
 * aliased: `deno doc --lint` reads a generic alias of an npm type as private).
 */
// deno-lint-ignore no-explicit-any
export interface QueryResult<R extends QueryResultRow = any> {
  /** The SQL command: `SELECT`, `INSERT`, … */
  command: string;
  /** Rows the command touched or returned; null for commands that count none. */
  rowCount: number | null;
  /** The inserted row's oid, for a single-row INSERT into a table with oids; else 0. */
  oid: number;
  /** The result's columns. */
  fields: FieldDef[];
  /** The rows. */
  rows: R[];
}
/** A query as an object: text, values, name, types (`pg`). */
export type QueryConfig = pg.QueryConfig;
/** A query whose rows come back as arrays (`pg`). */
export type QueryArrayConfig = pg.QueryArrayConfig;
/** The result of a `rowMode: "array"` query, field for field pg's `QueryArrayResult`. */
// deno-lint-ignore no-explicit-any
export interface QueryArrayResult<R extends any[] = any[]> {
  /** The SQL command: `SELECT`, `INSERT`, … */
  command: string;
  /** Rows the command touched or returned; null for commands that count none. */
  rowCount: number | null;
  /** The inserted row's oid, for a single-row INSERT into a table with oids; else 0. */
  oid: number;
  /** The result's columns. */
  fields: FieldDef[];
  /** The rows. */
  rows: R[];
}
/** A query that submits itself: a cursor or a stream (`pg`). */
export type Submittable = pg.Submittable;
/** node-postgres' resolved pool options (`pg`). */
export type PgPoolOptions = pg.PoolOptions;

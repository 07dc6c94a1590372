/**
 * Reads the SQLSTATE of a Postgres error. node-postgres puts the server's
 * five-character code on `error.code`, but socket errors use the same field
 * for names like "ECONNREFUSED", so only a five-character code counts.
 *
 * @example
 * ```ts
 * import { sqlstate } from "./sqlstate.ts";
 * sqlstate(Object.assign(new Error("canceling statement due to statement timeout"), { code: "57014" })); // "57014"
 * sqlstate(Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" })); // undefined
 * ```
 *
 * @module
 */

const SQLSTATE = /^[0-9A-Z]{5}$/;

/** The SQLSTATE of a Postgres error (e.g. "57014"), or undefined for anything else. */
export function sqlstate(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return typeof code === "string" && SQLSTATE.test(code) ? code : undefined;
}

/**
 * Reading settings from environment variables, with one error shape for
 * every bad value: the variable, what it must be, its current value and the
 * fallback. The demo service's settings and the fault schedule's `FAIL_*`
 * variables are all read through here, so each has one parser and one set
 * of limits.
 *
 * @example
 * ```ts
 * import { envInteger } from "./env.ts";
 * const env = new Map([["PORT", "9100"]]);
 * envInteger(env, "PORT", { fallback: 9000, min: 0, max: 65_535, hint: "0 picks a free port" }); // 9100
 * ```
 *
 * @module
 */

/** Reads environment variables: `Deno.env`, or a plain `Map` in tests. */
export interface Env {
  get(name: string): string | undefined;
}

/** A setting in the environment is malformed; the message names it, its value and a fix. */
export class ConfigError extends RangeError {
  /**
   * @param variable the environment variable at fault
   * @param message what it must be, its current value and what to do
   */
  constructor(readonly variable: string, message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/** The variable's value, trimmed; undefined when unset or blank. */
export function envString(env: Env, name: string): string | undefined {
  const raw = env.get(name)?.trim();
  return raw === "" ? undefined : raw;
}

/** Limits for {@linkcode envInteger}. */
export interface IntegerSetting {
  /** Used when the variable is unset or blank. */
  fallback: number;
  /** Smallest accepted value. */
  min: number;
  /** Largest accepted value. */
  max: number;
  /** What the number means, shown in the error, e.g. "0 picks a free port". */
  hint: string;
}

/**
 * A whole number from `min` to `max`, or the fallback when unset.
 * @throws {ConfigError} when the value is not a whole number in range
 */
export function envInteger(env: Env, name: string, setting: IntegerSetting): number {
  const raw = envString(env, name);
  if (raw === undefined) return setting.fallback;
  const value = Number(raw);
  if (!/^-?\d+$/.test(raw) || value < setting.min || value > setting.max) {
    throw new ConfigError(
      name,
      `${name} must be a whole number from ${setting.min} to ${setting.max} (${setting.hint}): current value is ` +
        `"${raw}". Fix it or unset it to use ${setting.fallback}.`,
    );
  }
  return value;
}

/**
 * A fraction from 0 to 1, or undefined when unset.
 * @param unsetMeans what happens when it is unset, for the error message, e.g. "use FAIL_EVERY"
 * @throws {ConfigError} when the value is not a number from 0 to 1
 */
export function envFraction(env: Env, name: string, hint: string, unsetMeans: string): number | undefined {
  const raw = envString(env, name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!(value >= 0 && value <= 1)) {
    throw new ConfigError(
      name,
      `${name} must be a fraction from 0 to 1 (${hint}): current value is "${raw}". Fix it or unset it to ${unsetMeans}.`,
    );
  }
  return value;
}

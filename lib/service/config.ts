/**
 * Every knob of the demo service, in one place (as in HotROD's config):
 *
 * | variable                      | default                 | what it does                                   |
 * |-------------------------------|-------------------------|------------------------------------------------|
 * | `HOST`                        | `127.0.0.1`             | address to listen on (`0.0.0.0` in a container)|
 * | `PORT`                        | `9000`                  | port to listen on; `0` picks a free one        |
 * | `DATABASE_URL`                | embedded PostgreSQL     | the Postgres to use (`postgres://…`)           |
 * | `POOL_NAME`                   | `demo`                  | pool name; `application_name` is `leak-lab:<name>` |
 * | `POOL_MAX`                    | `5`                     | connections in the pool                        |
 * | `ACQUIRE_TIMEOUT_MS`          | `2000`                  | how long a request waits for a connection      |
 * | `LEAK_THRESHOLD_MS`           | `30000`                 | report a connection held longer (0 = off)      |
 * | `FAIL_EVERY`                  | `2`                     | every Nth query fails (1 = all, 0 = none)      |
 * | `FAIL_RATE`                   | unset                   | fail this fraction (0–1) instead, seeded       |
 * | `FAIL_SEED`                   | `42`                    | seed for `FAIL_RATE`                           |
 * | `OTEL_EXPORTER_OTLP_ENDPOINT` | localhost:4318 if up    | where traces go (Jaeger's OTLP/HTTP port)      |
 * | `OTEL_SERVICE_NAME`           | `leak-lab`              | service name in Jaeger                         |
 * | `JAEGER_UI_URL`               | `http://localhost:16686`| base of the trace links                        |
 *
 * The last three are read by lib/telemetry.ts; they are listed here so this
 * table is the whole story.
 *
 * @module
 */
import { FaultSchedule } from "../faults.ts";

/** The service's settings after parsing the environment. */
export interface ServiceConfig {
  /** @default "127.0.0.1" */
  host: string;
  /** @default 9000 */
  port: number;
  /** @default undefined (embedded PostgreSQL) */
  databaseUrl: string | undefined;
  pool: {
    /** @default "demo" */
    name: string;
    /** @default 5 */
    max: number;
    /** @default 2000 */
    acquireTimeoutMs: number;
    /** @default 30000 */
    leakThresholdMs: number;
  };
  /** @default every 2nd query fails */
  faults: FaultSchedule;
}

/** A setting in the environment is malformed; the message names it, its value and a fix. */
export class ConfigError extends Error {
  /** @param variable the environment variable at fault */
  constructor(readonly variable: string, message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/** Reads environment variables; `Deno.env` or a plain map in tests. */
export interface Env {
  get(name: string): string | undefined;
}

/**
 * Parses the environment into a {@linkcode ServiceConfig}.
 *
 * @throws {ConfigError} naming the first malformed variable, its value and what to set instead
 * @example
 * ```ts
 * import { readConfig } from "./config.ts";
 * const config = readConfig(new Map([["PORT", "9100"], ["FAIL_EVERY", "3"]]));
 * console.log(config.port, config.faults.description); // 9100 "every 3rd query fails"
 * ```
 */
export function readConfig(env: Env = Deno.env): ServiceConfig {
  const read = (name: string) => {
    const raw = env.get(name)?.trim();
    return raw === "" ? undefined : raw;
  };
  const integer = (name: string, fallback: number, min: number, max: number, hint: string) => {
    const raw = read(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!/^-?\d+$/.test(raw) || value < min || value > max) {
      throw new ConfigError(
        name,
        `${name} must be a whole number from ${min} to ${max} (${hint}): current value is "${raw}". ` +
          `Fix it or unset it to use ${fallback}.`,
      );
    }
    return value;
  };

  const host = read("HOST") ?? "127.0.0.1";
  const port = integer("PORT", 9000, 0, 65_535, "0 picks a free port");
  const databaseUrl = read("DATABASE_URL");
  const name = read("POOL_NAME") ?? "demo";
  const max = integer("POOL_MAX", 5, 1, 1_000, "connections in the pool");
  const acquireTimeoutMs = integer("ACQUIRE_TIMEOUT_MS", 2_000, 1, 600_000, "milliseconds a request waits");
  const leakThresholdMs = integer("LEAK_THRESHOLD_MS", 30_000, 0, 86_400_000, "0 turns leak reports off");
  const failEvery = integer("FAIL_EVERY", 2, 0, 1_000_000, "1 = every query fails, 0 = none");
  const seed = integer("FAIL_SEED", 42, 0, 2 ** 32 - 1, "any seed");
  const rawRate = read("FAIL_RATE");
  let failRate: number | undefined;
  if (rawRate !== undefined) {
    failRate = Number(rawRate);
    if (!(failRate >= 0 && failRate <= 1)) {
      throw new ConfigError(
        "FAIL_RATE",
        `FAIL_RATE must be a fraction from 0 to 1 (0.3 = 30% of queries fail): current value is "${rawRate}". ` +
          `Fix it or unset it to use FAIL_EVERY.`,
      );
    }
  }
  return {
    host,
    port,
    databaseUrl,
    pool: { name, max, acquireTimeoutMs, leakThresholdMs },
    faults: new FaultSchedule({ failEvery, failRate, seed }),
  };
}

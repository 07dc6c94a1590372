/**
 * Every knob of the demo service, in one place (as in HotROD's config):
 *
 * | variable                      | default                 | what it does                                   |
 * |-------------------------------|-------------------------|------------------------------------------------|
 * | `HOST`                        | `127.0.0.1`             | address to listen on (`0.0.0.0` in a container)|
 * | `PORT`                        | `9000`                  | port to listen on; `0` picks a free one        |
 * | `ALLOWED_HOSTS`               | loopback names only     | other `Host` names served, comma-separated (`*` = any) |
 * | `DATABASE_URL`                | embedded PostgreSQL     | the Postgres to use (`postgres://…`)           |
 * | `POOL_NAME`                   | `demo`                  | pool name; `application_name` is `leak-lab:<name>` |
 * | `POOL_MAX`                    | `5`                     | connections in the pool                        |
 * | `ACQUIRE_TIMEOUT_MS`          | `2000`                  | how long a request waits for a connection      |
 * | `LEAK_THRESHOLD_MS`           | `30000`                 | report a connection held longer (0 = off)      |
 * | `CAPTURE_ACQUIRE_SITES`       | `always`                | `always`, `adaptive` or `never` (see pool.ts)  |
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
 * Requests are served only for loopback `Host` names (`localhost`,
 * `127.0.0.1`, `[::1]`), `HOST` when it is a name rather than `0.0.0.0`, and
 * `ALLOWED_HOSTS`: so that no web page can reach the service through DNS
 * rebinding (lib/service/browser_guard.ts). In docker compose the browser
 * still uses `localhost:9000`; another container that calls the service by
 * its compose name needs that name in `ALLOWED_HOSTS`.
 *
 * @module
 */
import { FaultSchedule } from "../demo/fault_schedule.ts";
import type { AcquireSitePolicy } from "../pool.ts";
import { ConfigError, type Env, envInteger, envString } from "../util/env.ts";
import { isLoopbackHost } from "./browser_guard.ts";

export { ConfigError, type Env } from "../util/env.ts";

/** The service's settings after parsing the environment. */
export interface ServiceConfig {
  /** @default "127.0.0.1" */
  host: string;
  /** @default 9000 */
  port: number;
  /** `Host` names served besides loopback ones: ALLOWED_HOSTS, and HOST when it is a name. @default [] */
  allowedHosts: string[];
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
    /** A demo names every holder's line; production pools default to "adaptive". @default "always" */
    captureAcquireSites: AcquireSitePolicy;
  };
  /** @default every 2nd query fails */
  faults: FaultSchedule;
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
  const host = envString(env, "HOST") ?? "127.0.0.1";
  return {
    host,
    port: envInteger(env, "PORT", { fallback: 9000, min: 0, max: 65_535, hint: "0 picks a free port" }),
    allowedHosts: allowedHosts(env, host),
    databaseUrl: envString(env, "DATABASE_URL"),
    pool: {
      name: envString(env, "POOL_NAME") ?? "demo",
      max: envInteger(env, "POOL_MAX", { fallback: 5, min: 1, max: 1_000, hint: "connections in the pool" }),
      acquireTimeoutMs: envInteger(env, "ACQUIRE_TIMEOUT_MS", {
        fallback: 2_000,
        min: 1,
        max: 600_000,
        hint: "milliseconds a request waits",
      }),
      leakThresholdMs: envInteger(env, "LEAK_THRESHOLD_MS", {
        fallback: 30_000,
        min: 0,
        max: 86_400_000,
        hint: "0 turns leak reports off",
      }),
      captureAcquireSites: sitePolicy(envString(env, "CAPTURE_ACQUIRE_SITES") ?? "always"),
    },
    faults: FaultSchedule.fromEnv(env),
  };
}

function sitePolicy(value: string): AcquireSitePolicy {
  if (value === "always" || value === "adaptive" || value === "never") return value;
  throw new ConfigError(
    "CAPTURE_ACQUIRE_SITES",
    `CAPTURE_ACQUIRE_SITES must be always, adaptive or never: current value is "${value}". ` +
      `Fix it or unset it to use always.`,
  );
}

/** Addresses that mean "every interface": not a name a browser would use. */
const WILDCARDS = new Set(["0.0.0.0", "::", "[::]"]);

function allowedHosts(env: Env, host: string): string[] {
  const names = (envString(env, "ALLOWED_HOSTS") ?? "").split(",").map((name) => name.trim().toLowerCase());
  for (const name of names) {
    if (name !== "*" && name !== "" && !/^(\[[0-9a-f:.]+\]|[a-z0-9_.-]+)$/.test(name)) {
      throw new ConfigError(
        "ALLOWED_HOSTS",
        `ALLOWED_HOSTS must be host names separated by commas (no scheme, port or path), or * for any: current ` +
          `value has "${name}". Fix it or unset it to serve loopback names only.`,
      );
    }
  }
  const hostName = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host.toLowerCase();
  if (!WILDCARDS.has(host) && !isLoopbackHost(hostName)) names.push(hostName);
  return [...new Set(names.filter((name) => name !== ""))];
}

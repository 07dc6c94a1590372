/**
 * The Postgres a checkpoint (or a test) runs against, and how it looks at
 * it from outside the pool: `pg_stat_activity`, plain queries on a fresh
 * connection, and pools with names of their own.
 *
 * A checkpoint runs wherever `deno test` runs — `deno task check`, `deno test
 * -A workshop-steps/`, one step folder, an editor's test button:
 * {@linkcode prepareCheckpointDatabase} (which `checkpoint()` runs before the
 * tests) uses DATABASE_URL when it is set, creating the demo schema if it is
 * missing, and otherwise starts ONE embedded PostgreSQL for the whole test
 * process, which every checkpoint file of that process shares and which stops
 * when the process exits (see `checkpoint_database_server.ts`).
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import pg from "pg";
import { openDatabase } from "../database.ts";
import { TracedPool, type TracedPoolOptions } from "../pool.ts";
import type { ServerAnnouncement } from "./checkpoint_database_server.ts";
import { REPO_ROOT } from "./steps.ts";

/** The database checkpoints use, password hidden in `displayUrl`. */
export interface CheckpointDatabase {
  /** Connection URL, password included: never print it. */
  readonly url: string;
  readonly displayUrl: string;
  readonly source: "DATABASE_URL" | "embedded";
}

/**
 * How the test files of one process share its embedded server: the files run
 * in separate isolates, but the environment is the process'. Holds
 * `{"pid", "url", "displayUrl"}`; another process' value (inherited) is ignored.
 */
const SHARED_ENV = "LEAKLAB_CHECKPOINT_DATABASE";
const SERVER_SCRIPT = new URL("./checkpoint_database_server.ts", import.meta.url);
const START_TIMEOUT_MS = 60_000;

let preparing: Promise<CheckpointDatabase> | undefined;

/**
 * The checkpoints' database, ready to use: DATABASE_URL with the demo schema
 * created if missing (idempotent), or this process' embedded server, started
 * on first use. Call it outside any test (`Deno.test.beforeAll`): the server
 * outlives the test that would start it, which the sanitizers would report.
 * @throws {Error} saying what to do when the server is unreachable, cannot start, or permissions are missing
 */
export function prepareCheckpointDatabase(): Promise<CheckpointDatabase> {
  return preparing ??= prepare();
}

async function prepare(): Promise<CheckpointDatabase> {
  const url = Deno.env.get("DATABASE_URL");
  if (url) {
    const db = await openDatabase({ url }); // creates the sensors table and its readings when they are missing
    return { url: db.url, displayUrl: db.displayUrl, source: "DATABASE_URL" };
  }
  const shared = sharedDatabase();
  if (shared) return shared;
  const started = await startProcessServer();
  Deno.env.set(SHARED_ENV, JSON.stringify({ pid: Deno.pid, url: started.url, displayUrl: started.displayUrl }));
  return started;
}

function sharedDatabase(): CheckpointDatabase | undefined {
  try {
    const value = JSON.parse(Deno.env.get(SHARED_ENV) ?? "null");
    if (value?.pid !== Deno.pid || typeof value.url !== "string") return undefined;
    return { url: value.url, displayUrl: String(value.displayUrl), source: "embedded" };
  } catch {
    return undefined;
  }
}

/** Starts `checkpoint_database_server.ts` detached, so it outlives this test file, and reads its URL. */
async function startProcessServer(): Promise<CheckpointDatabase> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--no-prompt", fileURLToPath(SERVER_SCRIPT)],
      cwd: REPO_ROOT,
      env: { DATABASE_URL: "", NO_COLOR: "1" },
      detached: true,
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).spawn();
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied) {
      throw new Error(
        "Checkpoints start a PostgreSQL when DATABASE_URL is not set, which needs every permission: run them " +
          "with `deno test -A workshop-steps/` (or `deno task check`).",
        { cause: error },
      );
    }
    throw error;
  }
  child.unref(); // never keep this test file alive: the server watches the process, not the file
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    reader.cancel().catch(() => {});
  }, START_TIMEOUT_MS);
  try {
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
  } finally {
    clearTimeout(timer);
    await reader.cancel().catch(() => {});
  }
  let announced: ServerAnnouncement;
  try {
    announced = JSON.parse(text.split("\n")[0]);
  } catch {
    throw new Error(
      `The checkpoints' embedded PostgreSQL ${
        timedOut ? `did not start within ${START_TIMEOUT_MS / 1000} s` : "stopped before it said it was ready"
      }. Run \`deno install\` if its binaries are missing, or set DATABASE_URL to a server you can write to.`,
    );
  }
  if ("error" in announced) throw new Error(announced.error);
  return { url: announced.url, displayUrl: announced.displayUrl, source: "embedded" };
}

/**
 * The URL checkpoints and tests connect to: DATABASE_URL, else the server
 * {@linkcode prepareCheckpointDatabase} started for this process.
 * @throws {Error} saying how to provide one when there is neither
 */
export function checkpointDatabaseUrl(): string {
  const url = Deno.env.get("DATABASE_URL") || sharedDatabase()?.url;
  if (!url) {
    throw new Error(
      "This needs a real Postgres. Run checkpoints with `deno task check <step>` or `deno test -A workshop-steps/`, " +
        "tests with `deno task test` (they use DATABASE_URL or start an embedded PostgreSQL), or set DATABASE_URL " +
        "to a server you can write to.",
    );
  }
  return url;
}

/** Whether the demo's `sensors` table exists: a checkpoint that finds it missing blames the setup, not the learner. */
export async function sensorsTableExists(): Promise<boolean> {
  const [row] = await adminQuery<{ found: boolean }>("SELECT to_regclass('public.sensors') IS NOT NULL AS found");
  return row.found;
}

/** A unique pool name, so a pool's `application_name` is its own in `pg_stat_activity`. */
export function uniquePoolName(prefix: string): string {
  return `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
}

/**
 * A TracedPool on the checkpoint database with a unique name, a short
 * acquire timeout (checkpoints exhaust pools on purpose), every acquire site
 * captured (a checkpoint names the line that leaked) and its warnings
 * dropped; `options` override any of that.
 *
 * @example
 * ```ts ignore
 * import { checkpointPool } from "./checkpoint_database.ts";
 * await using pool = checkpointPool("step03", { max: 5 });
 * ```
 */
export function checkpointPool(prefix: string, options: Partial<TracedPoolOptions> = {}): TracedPool {
  return new TracedPool({
    connectionString: checkpointDatabaseUrl(),
    name: uniquePoolName(prefix),
    acquireTimeoutMs: 300,
    captureAcquireSites: "always",
    log: () => {},
    ...options,
  });
}

/** Runs one query on a fresh, untraced connection: the view from outside the pool. */
export async function adminQuery<R extends pg.QueryResultRow = pg.QueryResultRow>(
  text: string,
  params?: unknown[],
): Promise<R[]> {
  const client = new pg.Client({ connectionString: checkpointDatabaseUrl(), application_name: "leak-lab:admin" });
  await client.connect();
  try {
    return (await client.query<R>(text, params)).rows;
  } finally {
    await client.end();
  }
}

/** The backends Postgres shows for a pool, found by its `application_name`. */
export async function backendsOf(poolName: string): Promise<{ pid: number; state: string }[]> {
  return await adminQuery<{ pid: number; state: string }>(
    "SELECT pid, state FROM pg_stat_activity WHERE application_name = $1 ORDER BY pid",
    [`leak-lab:${poolName}`],
  );
}

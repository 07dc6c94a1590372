/**
 * Cleaning up after embedded PostgreSQL runs that could not clean up after
 * themselves: their lifeline shell was killed too, so a data directory (and
 * maybe its server) outlived them. Run at every start, before a new
 * directory is made.
 *
 * @example
 * ```ts ignore
 * import { DATA_DIR_PREFIX, removeStaleDataDirs } from "./stale_data_dirs.ts";
 * await removeStaleDataDirs();
 * const dataDir = await Deno.makeTempDir({ prefix: DATA_DIR_PREFIX });
 * ```
 *
 * @module
 */

/** Every embedded data directory is a temporary directory named with this prefix. */
export const DATA_DIR_PREFIX = "leak-lab-pg-";
/** A directory that never got a server is removed once it is this old (a start in progress is younger). */
const STALE_AFTER_MS = 10 * 60 * 1000;

/**
 * Removes data directories that crashed runs left behind, and stops their
 * servers when nobody owns them any more (parent pid 1). A pid is signalled
 * only when /proc shows it is the postgres of that very directory: after a
 * reboot or a long time the pid in `postmaster.pid` can belong to anything.
 * Without /proc (macOS) it only removes old directories that never got a
 * server.
 */
export async function removeStaleDataDirs(): Promise<void> {
  const tmp = (Deno.env.get("TMPDIR") ?? "/tmp").replace(/(.)\/+$/, "$1");
  const canInspect = isDirectory("/proc/self");
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(tmp)].filter((e) => e.isDirectory && e.name.startsWith(DATA_DIR_PREFIX));
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
      if (!canInspect) continue;
      if (!isPostmasterOf(pid, dir)) {
        await Deno.remove(dir, { recursive: true }); // its server is gone (the pid is dead, or someone else's now)
      } else if (parentPid(pid) === 1) {
        Deno.kill(pid, "SIGINT"); // orphaned by a crashed run: fast shutdown
        for (let i = 0; i < 50 && isPostmasterOf(pid, dir); i++) {
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        await Deno.remove(dir, { recursive: true });
      }
    } catch {
      // Another run may be cleaning the same directory; never fail a start over it.
    }
  }
}

/** True when `pid` is a running `postgres -D <dir>` (its command line, from /proc). */
function isPostmasterOf(pid: number, dir: string): boolean {
  let argv: string[];
  try {
    argv = Deno.readTextFileSync(`/proc/${pid}/cmdline`).split("\0");
  } catch {
    return false;
  }
  const program = argv[0]?.slice(argv[0].lastIndexOf("/") + 1);
  const dataDir = argv[argv.indexOf("-D") + 1];
  return program === "postgres" && argv.includes("-D") && dataDir !== undefined && samePath(dataDir, dir);
}

function samePath(a: string, b: string): boolean {
  if (a === b) return true;
  try {
    return Deno.realPathSync(a) === Deno.realPathSync(b);
  } catch {
    return false;
  }
}

function isDirectory(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}

/** The server pid in `dir`'s `postmaster.pid`, if there is one. */
export function readPostmasterPid(dir: string): number | undefined {
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

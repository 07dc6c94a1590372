/**
 * Runs `main.ts` as a real process, for tests and `deno task soak`: start
 * it, wait for its banner, then stop it with a signal and collect what it
 * printed.
 *
 * @module
 */

/** A running demo service process. */
export interface ServiceProcess {
  /** Its process id. */
  pid: number;
  /** The URL from the banner ("service: http://…"), if it printed one. */
  address: string | undefined;
  /** Everything printed to stdout so far. */
  stdout: string;
  /**
   * Sends `signal` (to the whole process group with `ownProcessGroup`, as a terminal's Ctrl+C does), reads the rest
   * of stdout and resolves with the exit code and stderr.
   */
  stop(signal?: Deno.Signal): Promise<{ code: number; stdout: string; stderr: string }>;
}

/** Options for {@linkcode startServiceProcess}. */
export interface ServiceProcessOptions {
  /** Run it in a process group of its own, and signal that group on stop. @default false */
  ownProcessGroup?: boolean;
}

/** Starts `main.ts` in `cwd` with `env` and waits until it says it is serving (or exits). */
export async function startServiceProcess(
  cwd: string | URL,
  env: Record<string, string>,
  options: ServiceProcessOptions = {},
): Promise<ServiceProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "main.ts"],
    cwd,
    env,
    detached: options.ownProcessGroup ?? false,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let stdout = "";
  while (!stdout.includes("Press Ctrl+C")) {
    const { value, done } = await reader.read();
    if (done) break;
    stdout += value;
  }
  // Keep reading: the access log goes to stdout, and a full pipe would block the service's next console.log.
  const drained = (async () => {
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) stdout += chunk.value;
  })();
  return {
    pid: child.pid,
    address: stdout.match(/service: (http:\/\/\S+)/)?.[1],
    get stdout() {
      return stdout;
    },
    async stop(signal: Deno.Signal = "SIGTERM") {
      if (options.ownProcessGroup) Deno.kill(-child.pid, signal);
      else child.kill(signal);
      await drained;
      const { code } = await child.status;
      return { code, stdout, stderr: await stderr };
    },
  };
}

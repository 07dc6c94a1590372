/**
 * Debian's Prometheus for tests: `promtool`, and a real `prometheus` server
 * on 127.0.0.1 (a free port, a temporary data directory, 1 s scrape and
 * evaluation) with the rules and targets a test gives it.
 *
 * @module
 */

/** How a learner gets both binaries (the test skips visibly without them, off CI). */
export const PROMETHEUS_INSTALL = "apt-get install -y --no-install-recommends prometheus (Debian's, with promtool)";

/** True when `command --version` runs. */
export function hasCommand(command: string): boolean {
  try {
    return new Deno.Command(command, { args: ["--version"], stdout: "null", stderr: "null" }).outputSync().success;
  } catch {
    return false;
  }
}

/** Runs promtool (with `stdin` piped in, if given); resolves with its exit code and what it printed. */
export async function promtool(args: string[], stdin?: string): Promise<{ code: number; output: string }> {
  const child = new Deno.Command("promtool", {
    args,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(stdin));
    await writer.close();
  }
  const { code, stdout, stderr } = await child.output();
  const text = new TextDecoder();
  return { code, output: text.decode(stdout) + text.decode(stderr) };
}

/** A port nothing listens on now (bound and released: good enough on loopback for a test). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** One alert as `GET /api/v1/alerts` lists it. */
export interface PrometheusAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: "pending" | "firing";
  value: string;
}

/** A running Prometheus. */
export interface RunningPrometheus extends AsyncDisposable {
  readonly url: string;
  /** The pending and firing alerts now. */
  alerts(): Promise<PrometheusAlert[]>;
  /** The scrape targets' health, `instance` → "up" | "down" | "unknown". */
  targets(): Promise<Record<string, string>>;
  /** Stops it, removes its data, and resolves with what it logged. */
  stop(): Promise<string>;
}

/**
 * Starts `prometheus` scraping `targets` (host:port) every second with `rules` (a rule file's text),
 * evaluated every second, and waits until it is ready.
 */
export async function startPrometheus(options: { rules: string; targets: string[] }): Promise<RunningPrometheus> {
  const dir = await Deno.makeTempDir({ prefix: "leak-lab-prometheus-" });
  await Deno.writeTextFile(`${dir}/alerts.yml`, options.rules);
  await Deno.writeTextFile(
    `${dir}/prometheus.yml`,
    JSON.stringify({ // JSON is YAML
      global: { scrape_interval: "1s", scrape_timeout: "1s", evaluation_interval: "1s" },
      rule_files: ["alerts.yml"],
      scrape_configs: [{ job_name: "leak-lab", static_configs: [{ targets: options.targets }] }],
    }),
  );
  const port = freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = new Deno.Command("prometheus", {
    args: [
      `--config.file=${dir}/prometheus.yml`,
      `--storage.tsdb.path=${dir}/data`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--log.level=warn",
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output = Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text()])
    .then(([out, err]) => out + err);
  let stopping: Promise<string> | undefined;
  const stop = () =>
    stopping ??= (async () => {
      try {
        child.kill("SIGTERM");
      } catch { /* already exited */ }
      await child.status;
      const log = await output;
      await Deno.remove(dir, { recursive: true }).catch(() => {});
      return log;
    })();
  const api = async <T>(path: string): Promise<T> => {
    const response = await fetch(`${url}${path}`);
    const body = await response.json();
    if (body.status !== "success") throw new Error(`Prometheus ${path}: ${JSON.stringify(body)}`);
    return body.data as T;
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    const ready = await fetch(`${url}/-/ready`).then(async (r) => (await r.body?.cancel(), r.ok), () => false);
    if (ready) break;
    const exited = await Promise.race([child.status.then(() => true), new Promise((r) => setTimeout(r, 100, false))]);
    if (exited || Date.now() > deadline) {
      const log = await stop();
      throw new Error(`prometheus did not become ready on ${url}:\n${log}`);
    }
  }
  return {
    url,
    alerts: async () => (await api<{ alerts: PrometheusAlert[] }>("/api/v1/alerts")).alerts,
    targets: async () => {
      const data = await api<{ activeTargets: { labels: { instance: string }; health: string }[] }>("/api/v1/targets");
      return Object.fromEntries(data.activeTargets.map((t) => [t.labels.instance, t.health]));
    },
    stop,
    [Symbol.asyncDispose]: async () => void await stop(),
  };
}

/**
 * Stopping the demo service with its embedded Postgres (no DATABASE_URL):
 * one owner of shutdown. A signal under load must end with exit 0, every
 * request the service had in hand answered with JSON, and no Postgres
 * process, data directory or socket left; a SIGKILL must leave nothing
 * either; the start-up cleanup must never signal a process that is not the
 * directory's postgres.
 */
import { assert, assertEquals, assertGreater, assertLess, assertStringIncludes } from "@std/assert";
import { eventually } from "../lib/util/eventually.ts";
import { requirement } from "./support/requirement.ts";
import { startServiceProcess } from "./support/service_process.ts";

const ROOT = new URL("..", import.meta.url);
const embeddedModule = new URL("lib/database/embedded_postgres.ts", ROOT).href;
const JSON_POST = { method: "POST", headers: { "content-type": "application/json" } } as const;
const linux = requirement("Linux /proc (process checks)", Deno.build.os === "linux", "run these tests on Linux");

/** A private TMPDIR for one run; as root, Postgres runs as "postgres", which must reach it, as it reaches /tmp. */
async function tempRoot(prefix: string): Promise<string> {
  const tmp = await Deno.makeTempDir({ prefix });
  await Deno.chmod(tmp, 0o1777);
  return tmp;
}

/** Every process whose command line mentions `text` (the lifeline shell and the postmaster name their data dir). */
function processesMentioning(text: string): string[] {
  const found: string[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name) || Number(entry.name) === Deno.pid) continue;
    try {
      const cmdline = Deno.readTextFileSync(`/proc/${entry.name}/cmdline`).replaceAll("\0", " ");
      if (cmdline.includes(text)) found.push(`${entry.name}: ${cmdline}`);
    } catch {
      // exited while we looked
    }
  }
  return found;
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

function isAlive(pid: number): boolean {
  try {
    return !Deno.readTextFileSync(`/proc/${pid}/stat`).includes(") Z ");
  } catch {
    return false;
  }
}

/** The embedded server's data directory and postmaster pid, from its `postmaster.pid` under `tmp`. */
function embeddedServerIn(tmp: string): { dataDir: string; pid: number; port: number } {
  const dirs = [...Deno.readDirSync(tmp)].filter((e) => e.name.startsWith("leak-lab-pg-"));
  assertEquals(dirs.length, 1, "one embedded data directory while the service runs");
  const dataDir = `${tmp}/${dirs[0].name}`;
  const lines = Deno.readTextFileSync(`${dataDir}/postmaster.pid`).split("\n");
  return { dataDir, pid: Number(lines[0]), port: Number(lines[3]) };
}

async function portIsClosed(port: number): Promise<boolean> {
  try {
    (await Deno.connect({ hostname: "127.0.0.1", port })).close();
    return false;
  } catch {
    return true;
  }
}

interface Answer {
  endpoint: string;
  status: number;
  outcome?: string;
  failure?: string;
}

async function post(base: string, endpoint: string): Promise<Answer> {
  try {
    const response = await fetch(new URL(`api/${endpoint}`, base), JSON_POST);
    const text = await response.text();
    try {
      return { endpoint, status: response.status, outcome: JSON.parse(text).outcome };
    } catch {
      return { endpoint, status: response.status, failure: `not JSON: ${text.slice(0, 200)}` };
    }
  } catch (error) {
    return { endpoint, status: 0, failure: String(error) };
  }
}

const CLIENTS = 32;

/**
 * 32 clients send POST /api/good one after another while 5 connections are leaked. With a spare connection, one
 * request at a time holds it (mid-query) while the others wait in turn; with none, all 32 wait behind the leaks.
 */
async function stopsUnderLoad(signal: Deno.Signal, spare: 0 | 1) {
  const tmp = await tempRoot("leak-lab-shutdown-");
  try {
    const service = await startServiceProcess(ROOT, {
      DATABASE_URL: "", // the embedded Postgres
      TMPDIR: tmp,
      PORT: "0",
      POOL_MAX: String(5 + spare),
      FAIL_EVERY: "2",
      // Far longer than the shutdown may take: a waiting request that is not failed fast makes the test fail.
      ACQUIRE_TIMEOUT_MS: "20000",
      OTEL_EXPORTER_OTLP_ENDPOINT: "",
    }, { ownProcessGroup: signal === "SIGINT" }); // Ctrl+C in a terminal signals the whole foreground group
    assert(service.address, `the banner names the URL: ${service.stdout}`);
    assertStringIncludes(service.stdout, "(embedded)");
    const postgres = embeddedServerIn(tmp);
    assert(isAlive(postgres.pid));

    for (let i = 0; i < 10; i++) await post(service.address, "bad"); // every 2nd fails and leaks: 5 leaked
    const pool = await (await fetch(new URL("api/pool", service.address))).json();
    assertEquals([pool.leaked, pool.available], [5, spare]);

    let stopping = false;
    const answers: Answer[] = [];
    const clients = Array.from({ length: CLIENTS }, async () => {
      while (!stopping) answers.push(await post(service.address!, "good"));
    });
    const waitingNow = () => fetch(new URL("api/pool", service.address)).then((r) => r.json()).then((p) => p.waiting);
    await eventually(waitingNow, (waiting) => waiting >= CLIENTS - spare - 3);
    // "In flight" means the service has the request. With no spare connection every client waits inside the
    // service; with one, clients stop sending, and a request they sent just before has 50 ms to reach it: one sent
    // on a keep-alive connection as the server closes it never reached it (a race of HTTP/1.1, not of shutdown).
    if (spare === 0) assertEquals(await eventually(waitingNow, (waiting) => waiting === CLIENTS), CLIENTS);
    stopping = true;
    if (spare === 1) await new Promise((resolve) => setTimeout(resolve, 50));
    const answeredBefore = answers.length;
    const signalled = performance.now();
    const stopped = service.stop(signal);
    await Promise.all(clients);
    const { code, stdout, stderr } = await stopped;
    const stopMs = performance.now() - signalled;

    assertEquals(code, 0, `exit code; stderr:\n${stderr}`);
    assertStringIncludes(stdout, `${signal}: stopping`);
    assertStringIncludes(stdout, "Stopped.");
    const inFlight = answers.slice(answeredBefore);
    assertGreater(inFlight.length, spare === 0 ? CLIENTS - 1 : 4, "requests were in flight when the signal came");
    assertEquals(answers.filter((a) => a.failure), [], "every request got a JSON answer");
    for (const { status, outcome } of answers) {
      assert(["200 ok", "500 query failed", "503 service stopping"].includes(`${status} ${outcome}`), outcome);
    }
    if (spare === 0) {
      assertEquals(
        inFlight.filter((a) => a.outcome !== "service stopping"),
        [],
        "requests waiting behind leaked connections are failed fast when the pool ends",
      );
    }
    // Bounded by SHUTDOWN_BUDGET_MS (3 s) plus the process exit; far below ACQUIRE_TIMEOUT_MS (20 s).
    assertLess(stopMs, 10_000, `stopped in ${stopMs.toFixed(0)} ms`);
    assertEquals(stderr.match(/terminating connection due to administrator command/g), null, stderr);

    assertEquals(isAlive(postgres.pid), false, "the postmaster is gone");
    assertEquals(processesMentioning(tmp), [], "no process of the embedded server is left");
    assertEquals([...Deno.readDirSync(tmp)].map((e) => e.name), [], "its data directory is gone");
    assert(await portIsClosed(postgres.port), "nothing listens on its port");
    assertEquals(processesMentioning(`.s.PGSQL.${postgres.port}`), []);
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}

Deno.test({
  name: "main.ts on the embedded Postgres stops on SIGHUP (its terminal closed) like on SIGTERM",
  ...linux,
  fn: () => stopsUnderLoad("SIGHUP", 0),
});

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.test({
    name: `main.ts on the embedded Postgres stops on ${signal} mid-query: exit 0, every request answered, nothing left`,
    ...linux,
    fn: () => stopsUnderLoad(signal, 1),
  });
  Deno.test({
    name:
      `main.ts on the embedded Postgres stops on ${signal} with 32 requests waiting behind leaks: all get 503 at once`,
    ...linux,
    fn: () => stopsUnderLoad(signal, 0),
  });
}

Deno.test({
  name: "a SIGKILLed main.ts leaves no embedded Postgres process or data directory behind",
  ...linux,
  async fn() {
    const tmp = await tempRoot("leak-lab-sigkill-");
    try {
      const service = await startServiceProcess(ROOT, {
        DATABASE_URL: "",
        TMPDIR: tmp,
        PORT: "0",
        OTEL_EXPORTER_OTLP_ENDPOINT: "",
      });
      assert(service.address, service.stdout);
      const postgres = embeddedServerIn(tmp);
      const { code } = await service.stop("SIGKILL");
      assertEquals(code, 137);
      const left = await eventually(
        () => [...processesMentioning(tmp), ...[...Deno.readDirSync(tmp)].map((e) => e.name)],
        (rest) => rest.length === 0,
        { timeoutMs: 5_000 },
      );
      assertEquals(left, [], "the lifeline stopped Postgres and removed its directory");
      assertEquals(isAlive(postgres.pid), false);
      assert(await portIsClosed(postgres.port));
    } finally {
      await Deno.remove(tmp, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name: "the start-up cleanup never signals a pid in postmaster.pid that is not that directory's postgres",
  ...linux,
  async fn() {
    const tmp = await tempRoot("leak-lab-stale-");
    // An orphan (parent pid 1) that is not postgres, as when the pid of a crashed run's server was reused: it notes
    // every SIGINT it gets in a file.
    const marks = `${tmp}/bystander-signals`;
    const bystanderScript = `Deno.addSignalListener("SIGINT", () => Deno.writeTextFileSync(${JSON.stringify(marks)}, ` +
      `"SIGINT", { append: true })); Deno.writeTextFileSync(${
        JSON.stringify(marks)
      }, ""); setTimeout(() => {}, 60000);`;
    const spawned = await new Deno.Command("sh", {
      args: ["-c", `"$0" eval "$1" >/dev/null 2>&1 </dev/null & echo $!`, Deno.execPath(), bystanderScript],
      stdout: "piped",
    }).output();
    const bystander = Number(new TextDecoder().decode(spawned.stdout).trim());
    try {
      await eventually(() => exists(marks), (ready) => ready, { timeoutMs: 10_000 });
      assert(isAlive(bystander) && exists(marks), "the bystander is listening");
      const stale = `${tmp}/leak-lab-pg-stale`;
      await Deno.mkdir(stale);
      await Deno.writeTextFile(`${stale}/postmaster.pid`, `${bystander}\n${stale}\n`);
      // A start (and stop) of the embedded server in a process of its own, with this directory as its TMPDIR.
      const script = `import { startEmbeddedPostgres } from ${
        JSON.stringify(
          new URL("lib/database/embedded_postgres.ts", ROOT).href,
        )
      }; const server = await startEmbeddedPostgres(); await server.stop();`;
      const run = await new Deno.Command(Deno.execPath(), {
        args: ["eval", script],
        cwd: ROOT,
        env: { TMPDIR: tmp },
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert(run.success, new TextDecoder().decode(run.stderr));
      assertEquals(Deno.readTextFileSync(marks), "", "the process named in postmaster.pid was not signalled");
      assert(isAlive(bystander));
      assertEquals(
        [...Deno.readDirSync(tmp)].map((e) => e.name),
        ["bystander-signals"],
        "the stale directory was removed",
      );
    } finally {
      try {
        Deno.kill(bystander, "SIGKILL");
      } catch {
        // already gone: the failure above says why
      }
      await Deno.remove(tmp, { recursive: true }).catch(() => {});
    }
  },
});

const HALF_SENT_HEADERS = "GET /api/pool HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
const HALF_SENT_BODY =
  "POST /api/good HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{";

/** main.ts on the tests' database (DATABASE_URL), where a test needs no embedded server of its own. */
async function serviceOnTheTestDatabase() {
  const service = await startServiceProcess(ROOT, {
    DATABASE_URL: Deno.env.get("DATABASE_URL") ?? "",
    PORT: "0",
    OTEL_EXPORTER_OTLP_ENDPOINT: "",
  });
  assert(service.address, service.stdout);
  return service;
}

Deno.test("main.ts stops within its 3 s budget while clients hold connections that never finish a request", async () => {
  const service = await serviceOnTheTestDatabase();
  const port = Number(new URL(service.address!).port);
  // Half stop inside the headers, half inside a body: Deno.serve has no header or idle timeout to close either.
  const held = await Promise.all(Array.from({ length: 20 }, async (_, i) => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await conn.write(new TextEncoder().encode(i % 2 ? HALF_SENT_HEADERS : HALF_SENT_BODY));
    return conn;
  }));
  await new Promise((resolve) => setTimeout(resolve, 200)); // the service has them all
  try {
    const signalled = performance.now();
    const { code, stderr } = await service.stop("SIGTERM");
    const stopMs = performance.now() - signalled;
    assertEquals(code, 0, stderr);
    assertLess(stopMs, 3_000 + 3_000, `stopped in ${stopMs.toFixed(0)} ms: the budget, not the clients, decides`);
  } finally {
    for (const conn of held) conn.close();
  }
});

Deno.test("a second signal during the graceful stop exits at once with 130", async () => {
  const service = await serviceOnTheTestDatabase();
  // A request whose body never comes keeps the graceful stop busy for its whole budget.
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(new URL(service.address!).port) });
  await conn.write(new TextEncoder().encode(HALF_SENT_BODY));
  await new Promise((resolve) => setTimeout(resolve, 200)); // the service has it
  try {
    Deno.kill(service.pid, "SIGTERM");
    await new Promise((resolve) => setTimeout(resolve, 300));
    const signalled = performance.now();
    const { code, stdout } = await service.stop("SIGTERM");
    assertEquals(code, 130);
    assertStringIncludes(stdout, "SIGTERM: stopping");
    assertLess(performance.now() - signalled, 1_500, "at once, not after the budget");
  } finally {
    conn.close();
  }
});

Deno.test({
  name: "the next start stops a server orphaned with its lifeline, and removes its directory",
  ...linux,
  async fn() {
    const tmp = await tempRoot("leak-lab-orphan-");
    try {
      // A process that starts an embedded server and waits; then it and the server's lifeline are killed (SIGKILL).
      const owner = new Deno.Command(Deno.execPath(), {
        args: [
          "eval",
          `import { startEmbeddedPostgres } from ${JSON.stringify(embeddedModule)};
          const server = await startEmbeddedPostgres(); console.log(server.pid); setTimeout(() => {}, 60_000);`,
        ],
        cwd: ROOT,
        env: { TMPDIR: tmp },
        stdout: "piped",
        stderr: "null",
      }).spawn();
      const reader = owner.stdout.pipeThrough(new TextDecoderStream()).getReader();
      const postmaster = Number((await reader.read()).value?.trim());
      assert(isAlive(postmaster), `the server runs (pid ${postmaster})`);
      const lifeline = Number(Deno.readTextFileSync(`/proc/${postmaster}/stat`).split(") ")[1].split(" ")[1]);
      Deno.kill(lifeline, "SIGKILL");
      owner.kill("SIGKILL");
      await owner.status;
      await reader.cancel();
      await eventually(() => parentOf(postmaster), (parent) => parent === 1);
      const { dataDir } = embeddedServerIn(tmp);
      assert(isAlive(postmaster), "orphaned: its owner and lifeline are gone, the server is not");

      const next = await new Deno.Command(Deno.execPath(), {
        args: [
          "eval",
          `import { startEmbeddedPostgres } from ${JSON.stringify(embeddedModule)};
          const server = await startEmbeddedPostgres(); await server.stop();`,
        ],
        cwd: ROOT,
        env: { TMPDIR: tmp },
        stdout: "null",
        stderr: "piped",
      }).output();
      assert(next.success, new TextDecoder().decode(next.stderr));
      assertEquals(isAlive(postmaster), false, "the orphan was stopped");
      assertEquals(exists(dataDir), false, "its directory was removed");
      assertEquals(processesMentioning(tmp), []);
    } finally {
      await Deno.remove(tmp, { recursive: true }).catch(() => {});
    }
  },
});

function parentOf(pid: number): number | undefined {
  try {
    return Number(Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1].split(" ")[1]);
  } catch {
    return undefined;
  }
}

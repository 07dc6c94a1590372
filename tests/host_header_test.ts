/**
 * The Host header names the server, never the resource: Deno builds
 * `request.url` from Host + path, so a Host with a `/`, `?` or `#` in it used
 * to change which route ran (`Host: 127.0.0.1/api/reset#` turned
 * `POST /api/good` into a reset), and one that is no URL authority at all
 * made `new URL()` throw: Deno's plain-text 500, a stack trace per request.
 * These requests go over a real socket to `Deno.serve` on 127.0.0.1, since
 * only Deno.serve builds a URL from the Host header.
 */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { FaultSchedule } from "../lib/demo/fault_schedule.ts";
import { TracedPool } from "../lib/pool.ts";
import { setupTelemetry } from "../lib/telemetry.ts";
import { createApp } from "../lib/service/app.ts";
import { SECURITY_HEADERS } from "../lib/service/browser_guard.ts";
import { tracedHandlers } from "../lib/service/demo_pool.ts";
import { isValidHost } from "../lib/service/request_target.ts";
import { rateLimitedLog } from "../lib/util/rate_limited_log.ts";
import { checkpointDatabaseUrl, uniquePoolName } from "../lib/workshop/checkpoint_database.ts";

const telemetry = await setupTelemetry({ otlpEndpoint: false, log: () => {} });
const PROJECT_DIR = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

function served({ failEvery = 0 } = {}) {
  const lines: string[] = [];
  const pool = new TracedPool({
    connectionString: checkpointDatabaseUrl(),
    name: uniquePoolName("host-header"),
    max: 3,
    acquireTimeoutMs: 300,
    log: () => {},
  });
  const faults = new FaultSchedule({ failEvery });
  const app = createApp({
    pool,
    handlers: tracedHandlers(pool, faults),
    faults,
    spans: telemetry.spans,
    log: (line) => lines.push(line),
    metrics: () => telemetry.prometheusMetrics(),
  });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, app);
  return {
    pool,
    lines,
    port: server.addr.port,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
      await pool.end();
    },
  };
}

interface RawAnswer {
  status: number;
  headers: Headers;
  body: string;
}

/** One request written byte for byte (`Connection: close`), its answer parsed. */
async function raw(port: number, head: string, body = ""): Promise<RawAnswer> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const bytes = new Uint8Array([...`${head}Connection: close\r\n\r\n${body}`].map((c) => c.charCodeAt(0)));
  await conn.write(bytes);
  let text = "";
  const buffer = new Uint8Array(64 * 1024);
  const timer = setTimeout(() => conn.close(), 3_000);
  try {
    while (true) {
      const n = await conn.read(buffer);
      if (n === null) break;
      text += new TextDecoder().decode(buffer.subarray(0, n));
    }
  } catch {
    // closed by the timer
  } finally {
    clearTimeout(timer);
  }
  try {
    conn.close();
  } catch {
    // already closed
  }
  const [top, ...rest] = text.split("\r\n\r\n");
  const [statusLine, ...headerLines] = top.split("\r\n");
  const headers = new Headers();
  for (const line of headerLines) {
    const colon = line.indexOf(":");
    headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  return { status: Number(statusLine.split(" ")[1]), headers, body: rest.join("\r\n\r\n") };
}

function request(method: string, path: string, host: string, extra = ""): string {
  return `${method} ${path} HTTP/1.1\r\nHost: ${host}\r\n${extra}`;
}

const JSON_POST = "Content-Type: application/json\r\nContent-Length: 0\r\n";

Deno.test("a Host with a path, query or fragment in it never changes which route runs", async () => {
  await using service = served({ failEvery: 1 });
  const { port, pool, lines } = service;
  // Two leaks: a reset would reclaim them.
  for (let i = 0; i < 2; i++) {
    assertEquals((await raw(port, request("POST", "/api/bad", `127.0.0.1:${port}`, JSON_POST))).status, 500);
  }
  assertEquals(pool.stats().leaked, 2);
  const tricks: [string, string, string][] = [
    ["POST", "/api/good", "127.0.0.1/api/reset#"],
    ["POST", "/api/good", `127.0.0.1:${port}/api/reset?`],
    ["GET", "/style.css", "127.0.0.1/api/traces?"],
    ["GET", "/api/pool", "127.0.0.1?x"],
    ["GET", "/", "127.0.0.1/api/info#"],
    ["GET", "/app.js", "user@127.0.0.1"],
    ["GET", "/app.js", "admin:Zq7Wx9k@127.0.0.1"],
  ];
  const shown: string[] = [];
  for (const [method, path, host] of tricks) {
    const answer = await raw(port, request(method, path, host, method === "POST" ? JSON_POST : ""));
    shown.push(answer.body);
    const where = `${method} ${path} with Host: ${host}`;
    assertEquals(answer.status, 400, `${where}: ${answer.body.slice(0, 200)}`);
    assertStringIncludes(answer.headers.get("content-type") ?? "", "application/json", where);
    const body = JSON.parse(answer.body);
    assertEquals([body.ok, body.status], [false, 400], where);
    assertStringIncludes(body.error, "Host header", where);
  }
  assertEquals(pool.stats().leaked, 2, "no trick ran the reset");
  const absolute = await raw(
    port,
    `GET http://admin:Zq7Wx9k@127.0.0.1:${port}/api/pool HTTP/1.1\r\nHost: 127.0.0.1\r\n`,
  );
  assertEquals(absolute.status, 400, "userinfo in an absolute-form target");
  assertStringIncludes(absolute.body, "admin:***@127.0.0.1");
  const everything = [...lines, ...shown, absolute.body].join("\n");
  assertEquals(everything.includes("Zq7Wx9k"), false, `a password in a Host is never shown: ${everything}`);
  assertEquals(lines.filter((line) => /^\w+ \/api\/(reset|traces|info)/.test(line)), [], lines.join("\n"));
  // The same paths with an honest Host still answer.
  assertEquals((await raw(port, request("GET", "/api/pool", `127.0.0.1:${port}`))).status, 200);
  assertMatch((await raw(port, request("GET", "/style.css", "localhost"))).headers.get("content-type") ?? "", /css/);
  assertEquals((await raw(port, request("GET", "/api/pool", `[::1]:${port}`))).status, 200);
  assertEquals((await raw(port, request("GET", "/api/pool", "LOCALHOST."))).status, 200);
  assertEquals((await raw(port, `GET http://127.0.0.1:${port}/api/pool HTTP/1.1\r\nHost: 127.0.0.1\r\n`)).status, 200);
});

Deno.test("a malformed Host gets the service's JSON 400 with every security header, logged once in a while", async () => {
  await using service = served();
  const { port, lines } = service;
  const malformed = ["a b", "%", "[::1", "127.0.0.1:99999", "<script>x</script>", "127.0.0.1:9000:1", "a\\b", "é"];
  const rounds = 10;
  for (let round = 0; round < rounds; round++) {
    for (const host of malformed) {
      for (const [method, path] of [["GET", "/api/pool"], ["POST", "/api/reset"], ["GET", "/metrics"]]) {
        const answer = await raw(port, request(method, path, host, method === "POST" ? JSON_POST : ""));
        const where = `${method} ${path} with Host: ${host}`;
        assertEquals(answer.status, 400, `${where}: ${answer.body.slice(0, 200)}`);
        for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
          assertEquals(answer.headers.get(name), value, `${where}: ${name}`);
        }
        const body = JSON.parse(answer.body);
        assertEquals([body.ok, body.status], [false, 400], where);
        assertStringIncludes(body.error, "is not a valid Host header", where);
        assertStringIncludes(body.error, "host[:port]", where);
        if (round === 0 && method === "GET" && path === "/api/pool") assert(!answer.body.includes("<script>"), where);
      }
    }
  }
  const sent = rounds * malformed.length * 3;
  const log = lines.join("\n");
  assertEquals(lines.length, 1, `${sent} malformed requests logged ${lines.length} lines:\n${log}`);
  assertStringIncludes(log, "refused before routing → 400");
  assertStringIncludes(log, "is not a valid Host header");
  assertEquals(log.includes("TypeError"), false, log);
  assertEquals(/\n\s+at /.test(log), false, `no stack trace:\n${log}`);
  assertEquals(log.includes(PROJECT_DIR), false, `no absolute path:\n${log}`);
});

Deno.test("isValidHost() takes host[:port] and nothing else", () => {
  const valid = ["127.0.0.1", "127.0.0.1:9000", "localhost", "LOCALHOST.", "demo.localhost:1", "[::1]", "[::1]:9000"];
  valid.push("leak-lab.internal:65535", "demo_1:80", "127.0.0.1:", "[::1]:", "[::ffff:127.0.0.1]");
  for (const host of valid) assertEquals(isValidHost(host), true, host);
  const invalid = ["", "a b", "%", "%41", "[::1", "[::1]x9000", "[:::::]", "[zz::1]", "127.0.0.1:99999"];
  invalid.push("127.0.0.1:9000:1", "127.0.0.1:-1", "127.0.0.1:+80", "<script>x</script>", "a\\b", "é", "a..b", ".a");
  invalid.push("127.0.0.1/api/reset#", "127.0.0.1?x", "127.0.0.1#", "user@127.0.0.1", "user:pw@127.0.0.1", "a,b");
  invalid.push("x".repeat(262), "127.0.0.1:123456");
  for (const host of invalid) assertEquals(isValidHost(host), false, JSON.stringify(host));
});

Deno.test("rateLimitedLog() says each kind once per interval, then how many it held back", () => {
  const lines: string[] = [];
  let now = 0;
  const log = rateLimitedLog((line) => lines.push(line), { intervalMs: 10_000, now: () => now });
  for (let i = 0; i < 1_000; i++) log("404", `GET /x${i} → 404`);
  log("bad-host", "GET with a malformed Host header → 400");
  assertEquals(lines, ["GET /x0 → 404", "GET with a malformed Host header → 400"]);
  now = 9_999;
  log("404", "GET /late → 404");
  assertEquals(lines.length, 2, "still within the interval");
  now = 12_000;
  log("404", "GET /y → 404");
  assertEquals(lines[2], "GET /y → 404 (and 1000 more like it in the last 12 s)");
  now = 30_000;
  log("404", "GET /z → 404");
  assertEquals(lines[3], "GET /z → 404", "nothing held back: no count");
});

Deno.test("a path a proxy would read differently (dot segments, %2e, backslashes) is refused, not normalised", async () => {
  await using service = served({ failEvery: 1 });
  const { port, pool } = service;
  assertEquals((await raw(port, request("POST", "/api/bad", `127.0.0.1:${port}`, JSON_POST))).status, 500);
  assertEquals(pool.stats().leaked, 1);
  // The URL parser reads each of these as /api/reset; nginx, for one, does not read `\` as `/`, so a proxy rule
  // that keeps /api/reset private would let them through.
  for (const path of ["/api/%2e/reset", "/api/./reset", "/x/../api/reset", "/x/%2E%2e/api/reset", "/api\\reset"]) {
    const answer = await raw(port, request("POST", path, `127.0.0.1:${port}`, JSON_POST));
    assertEquals(answer.status, 400, `${path}: ${answer.body}`);
    assertStringIncludes(JSON.parse(answer.body).error, "is not in canonical form", path);
    assertEquals(answer.headers.get("x-content-type-options"), "nosniff", path);
  }
  assertEquals(pool.stats().leaked, 1, "none of them ran the reset");
  for (const path of ["/api/pool", "/api/pool?x=/../y", "/api/traces?all=true", "/api/traces/%61"]) {
    assert([200, 400].includes((await raw(port, request("GET", path, `127.0.0.1:${port}`))).status), path);
  }
  assertEquals((await raw(port, request("GET", "/api/pool?x=/../y", "localhost"))).status, 200, "a query is no path");
});

Deno.test("a failure outside any route still gets a JSON 500 with the security headers and a project-relative stack", async () => {
  const pool = new TracedPool({
    connectionString: checkpointDatabaseUrl(),
    name: uniquePoolName("host-500"),
    log: () => {},
  });
  const lines: string[] = [];
  const faults = new FaultSchedule({ failEvery: 0 });
  // A bug where no route's own error handling reaches: opening the request's scope.
  const broken = Object.assign(Object.create(pool), {
    scope: () => {
      throw new Error("a bug before any route ran");
    },
  });
  const app = createApp({
    pool: broken,
    handlers: tracedHandlers(pool, faults),
    faults,
    spans: telemetry.spans,
    log: (line) => lines.push(line),
  });
  for (let i = 0; i < 20; i++) {
    const response = await app(new Request("http://127.0.0.1:9000/api/pool"));
    assertEquals(response.status, 500);
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) assertEquals(response.headers.get(name), value, name);
    assertEquals(await response.json(), {
      ok: false,
      status: 500,
      error: "Internal error: a bug before any route ran",
    });
  }
  assertEquals(lines.length, 1, lines.join("\n"));
  assertStringIncludes(lines[0], "lib/service/http_span.ts:");
  assertEquals(lines[0].includes(PROJECT_DIR), false, lines[0]);
  await pool.end();
});

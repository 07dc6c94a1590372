/**
 * Other web pages in the user's browser must not drive the demo service:
 * cross-site POSTs (CSRF) and requests through a rebinding host name are
 * refused before they touch the pool. Each request is built with
 * `new Request(...)` carrying the headers a browser would send: no DNS is
 * involved, no made-up name is ever resolved.
 */
import { assertEquals, assertStringIncludes, assertThrows } from "@std/assert";
import { FaultSchedule } from "../lib/demo/fault_schedule.ts";
import { TracedPool } from "../lib/pool.ts";
import { setupTelemetry } from "../lib/telemetry.ts";
import { createApp } from "../lib/service/app.ts";
import { isLoopbackHost } from "../lib/service/browser_guard.ts";
import { ConfigError, readConfig } from "../lib/service/config.ts";
import { tracedHandlers } from "../lib/service/demo_pool.ts";
import { checkpointDatabaseUrl, uniquePoolName } from "../lib/workshop/checkpoint_database.ts";

const telemetry = await setupTelemetry({ otlpEndpoint: false, log: () => {} });
const SERVICE = "http://127.0.0.1:9000";

function newApp({ allowedHosts = [] as string[], failEvery = 1 } = {}) {
  const pool = new TracedPool({
    connectionString: checkpointDatabaseUrl(),
    name: uniquePoolName("cross-site"),
    max: 3,
    acquireTimeoutMs: 200,
    log: () => {},
  });
  const faults = new FaultSchedule({ failEvery }); // 1: every /api/bad leaks
  const app = createApp({ pool, handlers: tracedHandlers(pool, faults), faults, spans: telemetry.spans, allowedHosts });
  const send = async (url: string, init: RequestInit = {}) => {
    const response = await app(new Request(url, init));
    const body = await response.json();
    return { status: response.status, body };
  };
  return { pool, send };
}

Deno.test("cross-site POSTs a browser sends without a preflight are refused and change nothing", async () => {
  const { pool, send } = newApp();
  for (let i = 0; i < 3; i++) {
    assertEquals(
      (await send(`${SERVICE}/api/bad`, { method: "POST", headers: { "content-type": "application/json" } })).status,
      500,
    );
  }
  assertEquals(pool.stats().leaked, 3, "the pool is exhausted by leaks");
  const hostile: [string, Record<string, string>, number, string][] = [
    // fetch("http://127.0.0.1:9000/api/reset", { method: "POST", body: "x" }) from https://evil.example
    [
      "/api/reset",
      { "content-type": "text/plain;charset=UTF-8", origin: "https://evil.example" },
      403,
      "another origin",
    ],
    // an HTML form posted from another site
    [
      "/api/bad",
      { "content-type": "application/x-www-form-urlencoded", "sec-fetch-site": "cross-site" },
      403,
      "cross-site page",
    ],
    ["/api/bad", { "content-type": "application/x-www-form-urlencoded" }, 415, "needs Content-Type: application/json"],
    ["/api/good", { "content-type": "multipart/form-data; boundary=x" }, 415, 'not "multipart/form-data"'],
    ["/api/reset", { "content-type": "text/plain" }, 415, "curl -X POST -H 'content-type: application/json'"],
    ["/api/reset", {}, 415, "not none"],
    // another port on localhost (a notebook, a dev server) is the same site but not the same origin
    ["/api/reset", { "content-type": "text/plain", "sec-fetch-site": "same-site" }, 403, "same-site page"],
    ["/api/reset", { "content-type": "text/plain", origin: "http://localhost:8888" }, 403, "another origin"],
    ["/api/reset", { "content-type": "application/json", origin: "null" }, 403, "another origin (null)"],
    ["/api/reset", { "content-type": "application/json", "sec-fetch-site": "cross-site" }, 403, "cross-site"],
  ];
  for (const [path, headers, status, message] of hostile) {
    const body = headers["content-type"] ? "x=1" : undefined;
    const { status: got, body: answer } = await send(`${SERVICE}${path}`, { method: "POST", headers, body });
    assertEquals(got, status, `${path} ${JSON.stringify(headers)}`);
    assertStringIncludes(answer.error, message);
  }
  assertEquals(pool.stats().leaked, 3, "no refused request reset the pool");
  assertEquals(pool.stats().total, 3, "no refused request took a connection");
  await pool.end();
});

Deno.test("a request through another host name (DNS rebinding) is refused, GET and POST alike", async () => {
  const { pool, send } = newApp();
  for (const host of ["evil.example", "evil.example:9000", "192.168.1.20:9000", "127.0.0.1.evil.example"]) {
    for (const [method, path] of [["GET", "/api/traces"], ["GET", "/"], ["POST", "/api/reset"]]) {
      const { status, body } = await send(`http://${host}${path}`, {
        method,
        headers: method === "POST" ? { "content-type": "application/json" } : {},
      });
      assertEquals(status, 403, `${method} http://${host}${path}`);
      assertStringIncludes(body.error, `Host "${host}" is not allowed`);
      assertStringIncludes(body.error, "add it to ALLOWED_HOSTS");
    }
  }
  assertEquals(pool.stats().total, 0);
  await pool.end();
});

Deno.test("the page, curl and loopback names still work; ALLOWED_HOSTS and HOST extend the names served", async () => {
  const { pool, send } = newApp({ allowedHosts: ["leak-lab.internal"], failEvery: 0 });
  const allowed: [string, Record<string, string>][] = [
    // the page's own fetch (same origin): the browser adds Origin and Sec-Fetch-Site
    [`${SERVICE}/api/good`, { origin: SERVICE, "sec-fetch-site": "same-origin", "content-type": "application/json" }],
    [`${SERVICE}/api/good`, { origin: SERVICE }],
    [`${SERVICE}/api/good`, { "sec-fetch-site": "same-origin" }],
    // curl / a script: no browser headers, JSON as the message says
    [`${SERVICE}/api/good`, { "content-type": "application/json; charset=utf-8" }],
    ["http://localhost:9000/api/good", { "content-type": "application/json" }],
    ["http://[::1]:9000/api/good", { "content-type": "application/json" }],
    ["http://demo.localhost:9000/api/good", { "content-type": "application/json" }],
    ["http://127.0.0.2:9000/api/reset", { "content-type": "application/json" }],
    ["http://leak-lab.internal:9000/api/reset", { "content-type": "application/json" }],
    ["http://localhost:9000/api/good", { origin: "http://localhost:9000" }],
  ];
  for (const [url, headers] of allowed) {
    const { status } = await send(url, { method: "POST", headers });
    assertEquals(status, 200, `${url} ${JSON.stringify(headers)}`);
  }
  assertEquals((await send("http://localhost:9000/api/pool")).status, 200);
  await pool.end();

  assertEquals(readConfig(new Map()).allowedHosts, []);
  assertEquals(readConfig(new Map([["HOST", "0.0.0.0"]])).allowedHosts, [], "compose: the browser uses localhost");
  assertEquals(readConfig(new Map([["HOST", "Lab-Box"]])).allowedHosts, ["lab-box"]);
  assertEquals(readConfig(new Map([["ALLOWED_HOSTS", "demo, Leak-Lab.internal"]])).allowedHosts, [
    "demo",
    "leak-lab.internal",
  ]);
  const error = assertThrows(
    () => readConfig(new Map([["ALLOWED_HOSTS", "http://demo:9000"]])),
    ConfigError,
    `ALLOWED_HOSTS must be host names separated by commas (no scheme, port or path), or * for any: current value has "http://demo:9000"`,
  );
  assertEquals(error.variable, "ALLOWED_HOSTS");
  for (const name of ["localhost", "LOCALHOST.", "a.localhost", "127.0.0.1", "127.255.0.9", "[::1]"]) {
    assertEquals(isLoopbackHost(name), true, name);
  }
  for (const name of ["localhost.evil.example", "127.0.0.1.evil.example", "0.0.0.0", "[::]", "10.0.0.1"]) {
    assertEquals(isLoopbackHost(name), false, name);
  }
});

/**
 * One variant of the pool benchmark in its own process, driven by
 * `bench/pool_bench.ts` over stdin/stdout: a line `{"concurrency":16,"ops":4000}`
 * runs that many `acquire → SELECT 1 → release` operations and answers
 * `{"ms":…,"cpuMs":…,"spans":…}`.
 *
 * Every import that loads `pg` is dynamic, so the peer variant can register
 * `@opentelemetry/instrumentation-pg` before `pg` is first loaded (a static
 * import is never patched).
 *
 * Usage: deno run -A bench/pool_worker.ts <variant>   (DATABASE_URL must be set)
 */
import process from "node:process";
import { createNoopMeter, ProxyTracerProvider } from "@opentelemetry/api";

/** The variants, as `bench/pool_bench.ts` names them. */
export const VARIANTS = [
  "raw",
  "raw-sampled",
  "peer",
  "peer-sampled",
  "traced",
  "scoped",
  "sites",
  "sampled",
  "off",
  "off-scoped",
] as const;
export type Variant = typeof VARIANTS[number];

const MAX = 5;
/** The production setting the "-sampled" variants run under, through the standard variables. */
const SAMPLING = { OTEL_TRACES_SAMPLER: "parentbased_traceidratio", OTEL_TRACES_SAMPLER_ARG: "0.01" };
const ACQUIRE_TIMEOUT_MS = 2_000;

type Op = () => Promise<void>;

/** `op` inside an application's own request span, as a service with its own tracing runs it. */
function inRequestSpan(tracer: import("@opentelemetry/api").Tracer, op: Op): Op {
  return () =>
    tracer.startActiveSpan("request", async (span) => {
      try {
        await op();
      } finally {
        span.end();
      }
    });
}

async function setUp(variant: Variant, url: string): Promise<{ op: Op; spans: () => number }> {
  const noSpans = () => 0;
  const sampled = variant.endsWith("-sampled") || variant === "sampled";
  if (sampled) { for (const [key, value] of Object.entries(SAMPLING)) Deno.env.set(key, value); }
  if (variant === "raw" || variant === "raw-sampled" || variant === "peer" || variant === "peer-sampled") {
    let spans = noSpans;
    let tracer: import("@opentelemetry/api").Tracer | undefined;
    if (variant !== "raw") {
      const { setupTelemetry } = await import("../lib/telemetry.ts");
      const { registerInstrumentations } = await import("@opentelemetry/instrumentation");
      const { PgInstrumentation } = await import("@opentelemetry/instrumentation-pg");
      const telemetry = await setupTelemetry({ otlpEndpoint: false, log: () => {} });
      // raw-sampled: the application's own request span and SDK, and no pg instrumentation: what the app pays itself.
      if (variant !== "raw-sampled") registerInstrumentations({ instrumentations: [new PgInstrumentation()] });
      if (sampled) tracer = telemetry.tracer;
      spans = () => {
        const now = telemetry.spans.spans().length;
        telemetry.spans.clear();
        return now;
      };
    }
    const pg = (await import("pg")).default;
    const pool = new pg.Pool({ connectionString: url, max: MAX, connectionTimeoutMillis: ACQUIRE_TIMEOUT_MS });
    const op = async () => {
      const client = await pool.connect();
      try {
        await client.query("SELECT 1");
      } finally {
        client.release();
      }
    };
    return { op: tracer ? inRequestSpan(tracer, op) : op, spans };
  }
  const { TracedPool } = await import("../lib/pool.ts");
  const traced = variant !== "off" && variant !== "off-scoped";
  let spans = noSpans;
  let tracer: import("@opentelemetry/api").Tracer | undefined;
  if (traced) {
    const { setupTelemetry } = await import("../lib/telemetry.ts");
    const telemetry = await setupTelemetry({ otlpEndpoint: false, log: () => {} });
    if (sampled) tracer = telemetry.tracer;
    spans = () => {
      const now = telemetry.spans.spans().length;
      telemetry.spans.clear();
      return now;
    };
  }
  const pool = new TracedPool({
    connectionString: url,
    name: `bench-${variant}`,
    max: MAX,
    acquireTimeoutMs: ACQUIRE_TIMEOUT_MS,
    log: () => {},
    ...(traced ? {} : { tracer: new ProxyTracerProvider().getTracer("off"), meter: createNoopMeter() }),
    // The demo service's setting; every other variant keeps the default, "adaptive" (nothing captured while healthy).
    ...(variant === "sites" ? { captureAcquireSites: "always" as const } : {}),
  });
  // The same shape as the raw op (try/finally), so the difference is the pool's own work.
  const lease = async () => {
    const conn = await pool.acquire();
    try {
      await conn.query("SELECT 1");
    } finally {
      conn.release();
    }
  };
  const scoped = variant === "traced" ? lease : () => pool.scope("handler", lease);
  return { op: tracer ? inRequestSpan(tracer, scoped) : scoped, spans };
}

/** The non-empty lines of a byte stream. */
export async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buffered = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buffered += chunk;
    const parts = buffered.split("\n");
    buffered = parts.pop()!;
    yield* parts.filter((part) => part.trim() !== "");
  }
}

/** `ops` operations split over `concurrency` workers, each running its share back to back. */
async function run(op: Op, concurrency: number, ops: number): Promise<void> {
  const share = Math.ceil(ops / concurrency);
  await Promise.all(Array.from({ length: concurrency }, async () => {
    for (let i = 0; i < share; i++) await op();
  }));
}

if (import.meta.main) {
  const variant = Deno.args[0] as Variant;
  if (!VARIANTS.includes(variant)) {
    console.error(`Unknown variant "${variant}": expected one of ${VARIANTS.join(", ")}`);
    Deno.exit(2);
  }
  const url = Deno.env.get("DATABASE_URL");
  if (!url) {
    console.error("DATABASE_URL is not set: run the benchmark with `deno task bench`.");
    Deno.exit(2);
  }
  const { op, spans } = await setUp(variant, url);
  console.log(JSON.stringify({ ready: variant }));
  for await (const line of lines(Deno.stdin.readable)) {
    const { concurrency, ops } = JSON.parse(line) as { concurrency: number; ops: number };
    spans(); // count from an empty span store: only this run's spans
    const cpu = process.cpuUsage();
    const started = performance.now();
    await run(op, concurrency, ops);
    const ms = performance.now() - started;
    const used = process.cpuUsage(cpu);
    console.log(JSON.stringify({ ms, cpuMs: (used.user + used.system) / 1000, spans: spans() }));
  }
  Deno.exit(0);
}

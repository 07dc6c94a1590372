/**
 * Checkpoint of step 2: `findLeakingTraces()` names exactly the traces whose
 * connections are still out. The expected answer comes from the leases
 * themselves (the checkpoint keeps each one it hands out), not from spans.
 */
import { FaultSchedule, readSensors } from "leak-lab/demo/fault_schedule.ts";
import { runRequests } from "leak-lab/demo/request_series.ts";
import type { Lease } from "leak-lab/pool.ts";
import { type Checkpoint, checkpoint } from "leak-lab/workshop/checkpoint.ts";
import { describeError, eventsNamed, listOf, traceOf } from "leak-lab/workshop/checkpoint_checks.ts";
import { checkpointPool } from "leak-lab/workshop/checkpoint_database.ts";
import { recordingTracer } from "leak-lab/workshop/recording_tracer.ts";
import { findLeakingTraces } from "./find_leaks.ts";

const step: Checkpoint = checkpoint({ edit: "find_leaks.ts" });
Deno.test(step.test("findLeakingTraces() names exactly the traces that kept a connection", async () => {
  const { tracer, exporter } = recordingTracer();
  const pool = checkpointPool("step02", { max: 10, tracer });
  const faults = new FaultSchedule({ failEvery: 2 });
  const leases: { lease: Lease; request: number }[] = [];
  let current = 0;
  const take = async () => {
    const lease = await pool.acquire();
    leases.push({ lease, request: current });
    return lease;
  };

  // The same query and faults; only what happens to the connections differs.
  const handlers: Record<string, () => Promise<unknown>> = {
    bad_query_with_leak: () =>
      pool.scope("bad_query_with_leak", async () => {
        const conn = await take();
        const rows = await readSensors(conn, faults);
        conn.release(); // only on success
        return rows;
      }),
    good_query_no_leak: () =>
      pool.scope("good_query_no_leak", async () => {
        const conn = await take();
        try {
          return await readSensors(conn, faults);
        } finally {
          conn.release();
        }
      }),
    read_with_audit: () =>
      pool.scope("read_with_audit", async () => {
        await using audit = await take(); // returned on every path
        await audit.query("SELECT 1");
        const conn = await take();
        const rows = await readSensors(conn, faults);
        conn.release(); // only on success
        return rows;
      }),
    import_batch: () =>
      pool.scope("import_batch", async () => {
        const source = await take();
        const target = await take();
        const rows = await readSensors(source, faults);
        await target.query("SELECT 1");
        source.release(); // both only on success
        target.release();
        return rows;
      }),
    report_job: async () => {
      // No pool.scope(): nothing marks this leak, no connection_leaked event.
      const conn = await take();
      const rows = await readSensors(conn, faults);
      conn.release(); // only on success
      return rows;
    },
  };
  const plan = [
    "bad_query_with_leak",
    "bad_query_with_leak",
    "good_query_no_leak",
    "good_query_no_leak",
    "read_with_audit",
    "read_with_audit",
    "report_job",
    "report_job",
    "import_batch",
    "import_batch",
    "bad_query_with_leak",
    "bad_query_with_leak",
    "good_query_no_leak",
    "good_query_no_leak",
    "report_job",
    "report_job",
  ];
  // Each request runs one scheduled query, so the even ones fail; those of a leaking handler keep connections.
  const leaking = plan.flatMap((handler, i) => (i % 2 === 1 && !handler.startsWith("good") ? [i + 1] : []));

  try {
    const outcomes = await runRequests({
      tracer,
      root: true,
      count: plan.length,
      send: (request) => {
        current = request;
        return handlers[plan[request - 1]]();
      },
    });
    const spans = exporter.getFinishedSpans();
    const found = findLeakingTraces(spans);

    const expected = new Map<string, number[]>();
    for (const { lease } of leases.filter((l) => l.lease.state === "active")) {
      expected.set(lease.traceId!, [...(expected.get(lease.traceId!) ?? []), lease.id].sort((a, b) => a - b));
    }
    const leakingRequests = [...expected.keys()].map((traceId) => outcomes.find((o) => o.traceId === traceId)?.request);
    step.expect(
      JSON.stringify(leakingRequests.sort((a, b) => a! - b!)) === JSON.stringify(leaking),
      () =>
        `checkpoint bug: requests ${listOf(leaking)} should have kept connections; requests ` +
        `${listOf(leakingRequests.map(Number))} did`,
    );
    const requestOf = new Map(outcomes.map((o) => [o.traceId, o]));
    const describe = (traceId: string) => {
      const outcome = requestOf.get(traceId);
      if (!outcome) return `trace ${traceId} (not one of the checkpoint's requests)`;
      return `trace ${traceId} (request ${outcome.request}, ${plan[outcome.request - 1]}, ${
        outcome.ok ? "succeeded" : `failed with ${describeError(outcome.error)}`
      })`;
    };

    const seen = new Set<string>();
    for (const leak of found) {
      step.expect(
        !seen.has(leak.traceId),
        () =>
          `findLeakingTraces() named ${describe(leak.traceId)} more than once. Give one entry per trace, with the ` +
          `ids of all the connections it kept: ${listOf((expected.get(leak.traceId) ?? []).map((id) => `#${id}`))}.`,
      );
      seen.add(leak.traceId);
      step.expect(expected.has(leak.traceId), () => {
        const returned = eventsNamed(traceOf(spans, leak.traceId), "connection_returned_safely")
          .map((e) => `#${e.attributes["lease.id"]}`);
        return `findLeakingTraces() named ${describe(leak.traceId)} as leaking, but every connection it took came ` +
          `back: its trace has connection_returned_safely for ${listOf(returned)}. A failed request is not ` +
          `necessarily a leaking one: errors are what the logs show, the missing return is what the trace shows.`;
      });
    }
    for (const [traceId, leaseIds] of expected) {
      const reported = found.find((leak) => leak.traceId === traceId);
      const unscoped = plan[(requestOf.get(traceId)?.request ?? 1) - 1] === "report_job";
      const returned = eventsNamed(traceOf(spans, traceId), "connection_returned_safely")
        .map((e) => Number(e.attributes["lease.id"]));
      step.expect(
        reported !== undefined,
        () =>
          `findLeakingTraces() missed ${describe(traceId)}: it took connection(s) ${
            listOf(leaseIds.map((id) => `#${id}`))
          } (connection_acquired) and never returned them (no connection_returned_safely with that lease.id).` +
          (unscoped
            ? " This request ran outside pool.scope(), so no connection_leaked event marks it: compare what was " +
              "acquired with what was returned."
            : returned.length > 0
            ? ` Its trace does have a connection_returned_safely, but for ${
              listOf(returned.map((id) => `#${id}`))
            }, another connection of the same request: match each return to its connection_acquired by lease.id.`
            : ""),
      );
      const got = [...reported.leaseIds].sort((a, b) => a - b);
      step.expect(
        JSON.stringify(got) === JSON.stringify(leaseIds),
        () =>
          `findLeakingTraces() gave leaseIds [${reported.leaseIds.join(", ")}] for ${describe(traceId)}, but only ` +
          `${listOf(leaseIds.map((id) => `#${id}`))} stayed out` +
          (got.some((id) => returned.includes(id))
            ? `: ${
              listOf(got.filter((id) => returned.includes(id)).map((id) => `#${id}`))
            } came back (its connection_returned_safely is in the trace). List only the connections that stayed out.`
            : "."),
      );
    }
    step.expect(findLeakingTraces([]).length === 0, "findLeakingTraces([]) should return [] (no spans, no leaks).");
  } finally {
    await pool.end();
  }
}));

import { assertEquals, assertGreater, assertStringIncludes } from "@std/assert";
import { runSampledLeaks, sampledLeaksHtml } from "../lib/notebook/sampling_demo.ts";
import { checkpointDatabaseUrl } from "../lib/workshop/checkpoint_database.ts";

Deno.test("runSampledLeaks() shows every leak found by the leak search, sampled or not (notebook 5)", async () => {
  const run = await runSampledLeaks({
    connectionString: checkpointDatabaseUrl(),
    requests: 30,
    ratio: 0.1,
    failEvery: 3,
  });
  const leaking = run.requests.filter((r) => r.leaked);
  assertEquals(leaking.map((r) => r.request), [3, 6, 9, 12, 15, 18, 21, 24, 27, 30], "every 3rd request leaks");
  assertEquals(leaking.filter((r) => !r.found), [], "the leaklab.leak=true search finds every leaking request");
  const unsampled = leaking.filter((r) => !r.sampled);
  assertGreater(unsampled.length, 0, "at 10 % most leaking requests are not sampled"); // all 10 sampled: p = 1e-10
  for (const r of unsampled) assertEquals(r.exported, ["connection_leak_detected"], `request ${r.request}`);
  for (const r of run.requests.filter((r) => !r.leaked && !r.sampled)) {
    assertEquals(r.exported, [], `request ${r.request}: an unsampled request without a leak exports nothing`);
  }
  const html = sampledLeaksHtml(run);
  assertStringIncludes(html, `finds <b>10 of 10</b>`);
  assertEquals(html.includes("MISSED"), false);
});

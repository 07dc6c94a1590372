/**
 * Leak Lab's demo service: `deno task start`, then open http://127.0.0.1:9000.
 * Settings are environment variables, all listed in lib/service/config.ts.
 */
import { runService } from "./lib/service/run.ts";

Deno.exit(await runService());

/**
 * `main.ts` as a real process, for tests that need the whole service: the
 * helper lives in tasks/ because `deno task soak` drives the service the same way.
 *
 * @module
 */
export { type ServiceProcess, type ServiceProcessOptions, startServiceProcess } from "../../tasks/service_process.ts";

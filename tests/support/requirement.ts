/**
 * Tests that need a tool a learner may not have (Jupyter, Chromium, a local
 * Postgres on 5432) are skipped visibly, with the command that installs it.
 * Under CI=true a missing tool fails the run instead: nothing is skipped there.
 *
 * @module
 */

/**
 * Returns Deno.test's `ignore` for a requirement, printing why when it is not met.
 * @throws {Error} when the requirement is missing and CI=true
 */
export function requirement(what: string, met: boolean, howToGetIt: string): { ignore: boolean } {
  if (met) return { ignore: false };
  const message = `${what} is not available: ${howToGetIt}`;
  if (Deno.env.get("CI") === "true") throw new Error(`CI=true and ${message}`);
  console.warn(`SKIPPED (visibly): ${message}`);
  return { ignore: true };
}

/**
 * `deno task eslint-plugin`: writes dist/eslint-plugin-leak-lab/, an npm package
 * with the same rule ESLint users enable in eslint.config.js. The rule is
 * bundled from lint/leak_lab.ts (one source), not copied.
 *
 * ```js
 * // eslint.config.js (after `npm install <path>/dist/eslint-plugin-leak-lab`)
 * import leakLab from "eslint-plugin-leak-lab";
 * export default [{ plugins: { "leak-lab": leakLab }, rules: { "leak-lab/release-on-every-path": "error" } }];
 * ```
 *
 * @module
 */
const ROOT = new URL("../", import.meta.url);
/** Where the package is written. */
export const PACKAGE_DIR = new URL("dist/eslint-plugin-leak-lab/", ROOT);

/** Builds the package; returns its directory path. */
export async function buildEslintPlugin(): Promise<string> {
  const dir = PACKAGE_DIR.pathname;
  await Deno.mkdir(dir, { recursive: true });
  const bundle = await new Deno.Command(Deno.execPath(), {
    args: ["bundle", "--quiet", "--format", "esm", "--platform", "browser", "-o", `${dir}rule.js`, "lint/leak_lab.ts"],
    cwd: ROOT.pathname,
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!bundle.success) throw new Error("deno bundle lint/leak_lab.ts failed: see its output above.");
  const { version } = { version: "0.1.0" };
  await Deno.writeTextFile(
    `${dir}index.js`,
    [
      `// Built by deno task eslint-plugin from lint/leak_lab.ts: edit the rule there, not here.`,
      `import plugin from "./rule.js";`,
      `export default { meta: { name: "eslint-plugin-leak-lab", version: ${
        JSON.stringify(version)
      } }, rules: plugin.rules };`,
      ``,
    ].join("\n"),
  );
  await Deno.writeTextFile(
    `${dir}package.json`,
    JSON.stringify(
      {
        name: "eslint-plugin-leak-lab",
        version,
        description: "leak-lab/release-on-every-path: a pooled Postgres connection must be released on every path",
        type: "module",
        main: "./index.js",
        exports: { ".": "./index.js" },
        files: ["index.js", "rule.js"],
        keywords: ["eslint", "eslintplugin", "eslint-plugin", "pg", "node-postgres", "connection-leak"],
        peerDependencies: { eslint: ">=9" },
        engines: { node: ">=20" },
        license: "MIT",
      },
      null,
      2,
    ) + "\n",
  );
  return dir;
}

if (import.meta.main) console.log(`Wrote ${await buildEslintPlugin()}`);

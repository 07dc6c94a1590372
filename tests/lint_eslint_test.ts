/**
 * The rule under ESLint, for Node projects: `deno task eslint-plugin`'s package,
 * installed with `npm install <path>` next to real ESLint and typescript-eslint's
 * parser (exact versions, from npm) in a Node project, must report on the rule's
 * corpus exactly what `deno lint` reports (rule, line, message).
 *
 * The Node project lives in a cache directory so npm downloads once; the corpus
 * is written fresh into it on every run.
 */
import { assertEquals } from "@std/assert";
import { RULE_ID } from "../lint/leak_lab.ts";
import { buildEslintPlugin } from "../tasks/eslint_plugin.ts";
import { CASES, USING, withUsing } from "./lint_corpus.ts";
import { requirement } from "./support/requirement.ts";

const ESLINT = "10.16.0";
const PARSER = "8.74.0"; // @typescript-eslint/parser, typescript-eslint's parser
const TYPESCRIPT = "5.9.3";
const PLUGIN = new URL("../lint/leak_lab.ts", import.meta.url).href;

interface Finding {
  file: string;
  rule: string;
  line: number;
  message: string;
}

interface Edit {
  range: [number, number];
  text: string;
}

interface EslintMessage {
  ruleId: string | null;
  line: number;
  message: string;
  fatal?: boolean;
  fix?: Edit;
  suggestions?: { desc: string; fix: Edit }[];
}

const applyEdit = (source: string, e: Edit) => source.slice(0, e.range[0]) + e.text + source.slice(e.range[1]);

async function run(cmd: string, args: string[], cwd: string) {
  const out = await new Deno.Command(cmd, { args, cwd, stdout: "piped", stderr: "piped" }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

async function nodeVersion(): Promise<number[] | undefined> {
  try {
    const npm = await run("npm", ["--version"], ".");
    const node = await run("node", ["--version"], ".");
    return npm.code === 0 && node.code === 0 ? node.stdout.trim().slice(1).split(".").map(Number) : undefined;
  } catch {
    return undefined;
  }
}

const version = await nodeVersion();
const nodeOk = !!version && (version[0] > 20 || (version[0] === 20 && version[1] >= 19));

const ESLINT_CONFIG = `import tsParser from "@typescript-eslint/parser";
import leakLab from "eslint-plugin-leak-lab";

export default [
  {
    files: ["**/*.ts"],
    languageOptions: { parser: tsParser },
    plugins: { "leak-lab": leakLab },
    rules: { "leak-lab/release-on-every-path": "error" },
  },
];
`;

/** A Node project with ESLint and the parser installed (once per versions), and the freshly built plugin. */
async function nodeProject(): Promise<string> {
  const cache = Deno.env.get("XDG_CACHE_HOME") ?? `${Deno.env.get("HOME") ?? "/tmp"}/.cache`;
  const dir = `${cache}/leak-lab/eslint-node-${ESLINT}-${PARSER}-${TYPESCRIPT}`;
  await Deno.mkdir(dir, { recursive: true });
  const installed = await Deno.readTextFile(`${dir}/node_modules/eslint/package.json`)
    .then((t) => JSON.parse(t).version === ESLINT, () => false);
  if (!installed) {
    await Deno.writeTextFile(
      `${dir}/package.json`,
      JSON.stringify({ name: "leak-lab-eslint-check", private: true, type: "module" }, null, 2),
    );
    const deps = [`eslint@${ESLINT}`, `@typescript-eslint/parser@${PARSER}`, `typescript@${TYPESCRIPT}`];
    const npm = await run("npm", ["install", "--no-audit", "--no-fund", "--save-exact", ...deps], dir);
    if (npm.code !== 0) throw new Error(`npm install ${deps.join(" ")} failed in ${dir}:\n${npm.stderr}`);
  }
  const pkg = await buildEslintPlugin();
  // The three lines a Node project adds: npm install <path>, the import and the plugins/rules entry.
  const npm = await run("npm", ["install", "--no-audit", "--no-fund", pkg], dir);
  if (npm.code !== 0) throw new Error(`npm install ${pkg} failed in ${dir}:\n${npm.stderr}`);
  await Deno.writeTextFile(`${dir}/eslint.config.js`, ESLINT_CONFIG);
  return dir;
}

/** Each corpus case as its own .ts file, under `dir`. */
async function writeCorpus(dir: string): Promise<string[]> {
  await Deno.mkdir(dir, { recursive: true });
  const files = CASES.map((_, i) => `case_${String(i).padStart(2, "0")}.ts`);
  await Promise.all(CASES.map((c, i) => Deno.writeTextFile(`${dir}/${files[i]}`, c.source)));
  return files;
}

const sorted = (findings: Finding[]) =>
  findings.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.message.localeCompare(b.message));

Deno.test(
  "ESLint 10 with the built eslint-plugin-leak-lab reports on the corpus exactly what deno lint reports",
  requirement("Node >= 20.19 with npm", nodeOk, "install Node 20.19 or later (it ships npm)"),
  async () => {
    const project = await nodeProject();
    const eslintDir = `${project}/corpus-${Deno.pid}`;
    const denoDir = await Deno.makeTempDir({ prefix: "leak-lab-eslint-deno-" });
    try {
      const files = await writeCorpus(eslintDir);
      await writeCorpus(denoDir);
      await Deno.writeTextFile(`${denoDir}/deno.json`, JSON.stringify({ lint: { plugins: [PLUGIN] } }));

      const denoRun = await run(Deno.execPath(), ["lint", "--json", ...files], denoDir);
      const fromDeno: Finding[] = JSON.parse(denoRun.stdout).diagnostics
        .filter((d: { code: string }) => d.code === RULE_ID)
        .map((d: { filename: string; code: string; range: { start: { line: number } }; message: string }) => ({
          file: d.filename.split("/").at(-1)!,
          rule: d.code,
          line: d.range.start.line,
          message: d.message,
        }));

      const eslint = await run(
        "node",
        ["node_modules/eslint/bin/eslint.js", "--format", "json", ...files.map((f) => `${eslintDir}/${f}`)],
        project,
      );
      assertEquals(eslint.stderr, "");
      const results: { filePath: string; messages: EslintMessage[] }[] = JSON.parse(eslint.stdout);
      const fromEslint: Finding[] = results.flatMap((r) =>
        r.messages.map((m) => ({
          file: r.filePath.split("/").at(-1)!,
          rule: m.ruleId ?? `fatal: ${m.fatal}`,
          line: m.line,
          message: m.message,
        }))
      );

      const expected = CASES.reduce((n, c) => n + c.expect.length, 0);
      assertEquals(fromDeno.length, expected, "deno lint finds the corpus' diagnostics");
      assertEquals(sorted(fromEslint), sorted(fromDeno));

      // Each fix ESLint applies, or its one suggestion, leaves the code the corpus expects (deno lint's fix).
      for (const r of results) {
        const c = CASES[files.indexOf(r.filePath.split("/").at(-1)!)];
        r.messages.forEach((m, i) => {
          const edit = m.fix ?? m.suggestions?.[0]?.fix;
          const fixed = c.expect[i].fixed;
          assertEquals(
            edit ? applyEdit(c.source, edit) : undefined,
            fixed === USING ? withUsing(c.source) : fixed,
            `${c.name}: the fix or suggestion`,
          );
        });
      }
    } finally {
      await Deno.remove(eslintDir, { recursive: true }).catch(() => {});
      await Deno.remove(denoDir, { recursive: true });
    }
  },
);

/**
 * Runs `leak-lab/release-on-every-path` over the real-code evaluation set
 * (lint/eval/real_code.json) and prints recall and false alarms against the
 * verdicts written by reading each function. Not part of `deno task test`: the
 * third-party sources are not in this repository.
 *
 * Sources are read from `/tmp/lint-eval/files/<owner>+<name>/<path>`, or, when
 * absent, from a git mirror at `/tmp/lint-eval/mirror/<owner>+<name>` or
 * `/work/.mirror/<owner>+<name>/repo` (LINT_EVAL_MIRRORS overrides the list) at the listed commit. A function whose
 * source is in neither place is skipped with a message saying how to get it.
 *
 * ```sh
 * deno run -A lint/eval/run_eval.ts            # the figures
 * deno run -A lint/eval/run_eval.ts --write    # and store them in lint/eval/results.json
 * ```
 *
 * @module
 */
import { RULE_ID } from "../leak_lab.ts";

interface Source {
  repo: string;
  commit: string;
  path: string;
  function: string;
  lines: [number, number];
  leak: boolean;
  reason: string;
}

const HERE = new URL("./", import.meta.url);
const PLUGIN = new URL("../leak_lab.ts", import.meta.url).href;
const FILES = Deno.env.get("LINT_EVAL_FILES") ?? "/tmp/lint-eval/files";
/** Directories holding bare git mirrors named `<owner>+<name>` (or `<owner>+<name>/repo`), colon-separated. */
const MIRRORS = (Deno.env.get("LINT_EVAL_MIRRORS") ?? "/tmp/lint-eval/mirror:/work/.mirror").split(":");

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

/** The file's text at the listed commit, or undefined when no copy is here. */
async function sourceOf(s: Source): Promise<string | undefined> {
  const slug = s.repo.replace("/", "+");
  const file = `${FILES}/${slug}/${s.path}`;
  if (await exists(file)) return await Deno.readTextFile(file);
  for (const root of MIRRORS) {
    for (const gitDir of [`${root}/${slug}/repo`, `${root}/${slug}`]) {
      if (!(await exists(gitDir))) continue;
      const out = await new Deno.Command("git", {
        args: ["--git-dir", gitDir, "show", `${s.commit}:${s.path}`],
        stdout: "piped",
        stderr: "null",
      }).output();
      if (out.success) return new TextDecoder().decode(out.stdout);
    }
  }
  return undefined;
}

const { functions } = JSON.parse(await Deno.readTextFile(new URL("real_code.json", HERE))) as { functions: Source[] };
const dir = await Deno.makeTempDir({ prefix: "leak-lab-eval-" });
const present: { source: Source; file: string }[] = [];
const missing = new Set<string>();
try {
  await Deno.writeTextFile(`${dir}/deno.json`, JSON.stringify({ lint: { plugins: [PLUGIN] } }));
  const written = new Map<string, string>();
  for (const source of functions) {
    const key = `${source.repo}@${source.commit}:${source.path}`;
    let file = written.get(key);
    if (!file) {
      const text = await sourceOf(source);
      if (text === undefined) {
        missing.add(`${source.repo} ${source.commit} ${source.path}`);
        continue;
      }
      file = `f${written.size}_${source.path.split("/").at(-1)}`;
      await Deno.writeTextFile(`${dir}/${file}`, text);
      written.set(key, file);
    }
    present.push({ source, file });
  }
  if (missing.size > 0) {
    console.log(`Skipped ${missing.size} source file(s) not found under ${FILES} or a git mirror:`);
    for (const m of missing) console.log(`  ${m}`);
    const repos = new Set([...missing].map((m) => m.split(" ")[0]));
    console.log("Fetch them, then run again:");
    for (const r of repos) {
      console.log(`  git clone --bare https://github.com/${r} ${MIRRORS[0]}/${r.replace("/", "+")}`);
    }
  }
  if (present.length === 0) console.log("No sources present: nothing evaluated.");
  else await evaluate();
} finally {
  await Deno.remove(dir, { recursive: true });
}

async function evaluate() {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["lint", "--json", ...new Set(present.map((p) => p.file))],
    cwd: dir,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const report = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    diagnostics: { filename: string; code: string; range: { start: { line: number } }; message: string }[];
  };
  const ours = report.diagnostics.filter((d) => d.code === RULE_ID);
  const rows = present.map(({ source, file }) => {
    const found = ours.filter((d) =>
      d.filename.endsWith(`/${file}`) && d.range.start.line >= source.lines[0] &&
      d.range.start.line <= source.lines[1]
    );
    return { source, found };
  });
  const leaks = rows.filter((r) => r.source.leak);
  const caught = leaks.filter((r) => r.found.length > 0);
  const alarms = rows.filter((r) => !r.source.leak && r.found.length > 0);
  for (const r of rows) {
    const mark = r.source.leak ? (r.found.length ? "caught" : "MISSED") : (r.found.length ? "FALSE ALARM" : "ok");
    console.log(`${mark.padEnd(11)} ${r.source.repo} ${r.source.path} ${r.source.function}`);
    for (const d of r.found) console.log(`            line ${d.range.start.line}: ${d.message}`);
  }
  const figures = {
    functions: rows.length,
    repositories: new Set(rows.map((r) => r.source.repo)).size,
    leaks: leaks.length,
    caught: caught.length,
    recall: leaks.length ? caught.length / leaks.length : 1,
    falseAlarms: alarms.length,
    skippedFiles: missing.size,
  };
  console.log(JSON.stringify(figures));
  if (Deno.args.includes("--write")) {
    await Deno.writeTextFile(new URL("results.json", HERE), JSON.stringify(figures, null, 2) + "\n");
  }
}

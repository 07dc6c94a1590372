/**
 * `deno task notebooks`: executes every workshop notebook headless, each in a
 * fresh Deno kernel, against one shared Postgres (the task runs it under
 * tasks/with_database.ts). Executed copies go to test-artifacts/notebooks/;
 * the committed notebooks are never written.
 *
 * Usage: deno task notebooks [--html] [notebook.ipynb ...]
 *   --html  also export each executed notebook as notebooks/<name>.html (gitignored), for instructors
 *
 * tests/notebooks_test.ts runs the same {@linkcode runNotebooks}.
 *
 * @module
 */

/** Debian's Python: the `python3` first on PATH may be another one, without Jupyter. */
export const JUPYTER_PYTHON = "/usr/bin/python3";

/** How to get what the notebooks need, for error messages and skipped tests. */
export const JUPYTER_INSTALL =
  "apt-get install -y jupyter-nbconvert python3-nbclient python3-ipykernel && deno jupyter --install";

const ROOT = new URL("../", import.meta.url);
/** The workshop notebooks' folder. */
export const NOTEBOOKS_DIR = new URL("notebooks/", ROOT).pathname;
const RUNNER = new URL("tasks/run_notebooks.py", ROOT).pathname;

/** Whether Debian's nbclient and the Deno kernelspec are installed; `missing` says what is not. */
export function jupyterStatus(): { ok: true } | { ok: false; missing: string } {
  const probe = "import nbclient, nbformat\nfrom jupyter_client.kernelspec import KernelSpecManager\n" +
    "print('deno' in KernelSpecManager().find_kernel_specs())";
  let output: Deno.CommandOutput;
  try {
    output = new Deno.Command(JUPYTER_PYTHON, { args: ["-c", probe], stdout: "piped", stderr: "piped" }).outputSync();
  } catch {
    return { ok: false, missing: `${JUPYTER_PYTHON} (Debian's Python with Jupyter)` };
  }
  if (!output.success) return { ok: false, missing: "Debian's nbclient (python3-nbclient, jupyter-nbconvert)" };
  if (new TextDecoder().decode(output.stdout).trim() !== "True") {
    return { ok: false, missing: "the Deno Jupyter kernel (run `deno jupyter --install`)" };
  }
  return { ok: true };
}

/** The notebooks, in workshop order (absolute paths). */
export function listNotebooks(): string[] {
  return [...Deno.readDirSync(NOTEBOOKS_DIR)]
    .filter((entry) => entry.isFile && /^\d\d_.*\.ipynb$/.test(entry.name))
    .map((entry) => `${NOTEBOOKS_DIR}${entry.name}`)
    .sort();
}

/** Options for {@linkcode runNotebooks}. */
export interface RunNotebooksOptions {
  /** Notebooks to execute. @default listNotebooks() */
  notebooks?: string[];
  /** Folder for the executed copies. */
  outDir: string;
  /** Also export HTML into this folder. @default no HTML */
  htmlDir?: string;
  /** Extra environment for the kernels (they inherit this process's, DATABASE_URL included). @default {} */
  env?: Record<string, string>;
  /** "inherit" streams the runner's output; "piped" returns it. @default "inherit" */
  output?: "inherit" | "piped";
}

/** Runs tasks/run_notebooks.py; `code` is 0 when every notebook ran without an error. */
export async function runNotebooks(
  options: RunNotebooksOptions,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const notebooks = options.notebooks ?? listNotebooks();
  if (notebooks.length === 0) throw new RangeError(`Cannot run notebooks: none found in ${NOTEBOOKS_DIR}`);
  const args = [RUNNER, "--out", options.outDir, ...(options.htmlDir ? ["--html", options.htmlDir] : []), ...notebooks];
  const stdio = options.output ?? "inherit";
  const child = new Deno.Command(JUPYTER_PYTHON, {
    args,
    env: options.env ?? {},
    stdin: "null",
    stdout: stdio,
    stderr: stdio,
  }).spawn();
  if (stdio === "inherit") return { code: (await child.status).code, stdout: "", stderr: "" };
  const { code, stdout, stderr } = await child.output();
  const text = new TextDecoder();
  return { code, stdout: text.decode(stdout), stderr: text.decode(stderr) };
}

if (import.meta.main) {
  const html = Deno.args.includes("--html");
  const named = Deno.args.filter((arg) => arg !== "--html");
  const unknown = named.find((arg) => arg.startsWith("-"));
  if (unknown) {
    console.error(`Unknown option "${unknown}". Usage: deno task notebooks [--html] [notebook.ipynb ...]`);
    Deno.exit(2);
  }
  const status = jupyterStatus();
  if (!status.ok) {
    console.error(`Cannot run the notebooks: ${status.missing} is missing. Install with: ${JUPYTER_INSTALL}`);
    Deno.exit(1);
  }
  if (!Deno.env.get("DATABASE_URL")) {
    console.error("DATABASE_URL is not set: run this through `deno task notebooks`, which provides a Postgres.");
    Deno.exit(1);
  }
  const outDir = new URL("test-artifacts/notebooks/", ROOT).pathname;
  const started = performance.now();
  const { code } = await runNotebooks({
    notebooks: named.length > 0 ? named : undefined,
    outDir,
    htmlDir: html ? NOTEBOOKS_DIR : undefined,
  });
  console.log(
    `Executed copies: ${outDir}${html ? `; HTML: ${NOTEBOOKS_DIR}*.html` : ""} ` +
      `(${((performance.now() - started) / 1000).toFixed(1)} s in all)`,
  );
  Deno.exit(code);
}

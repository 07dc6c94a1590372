/**
 * A real front end: Debian's classic Jupyter Notebook 6 serves notebook 2 to headless Chromium, which clicks
 * Run All, the way an instructor would. Like JupyterLab and VS Code it shows a cell's output until the kernel
 * reports that cell idle; a line the kernel sends late shows under the next cell or nowhere. Every cell's own text
 * must be under it, and only there. The notebook server is stopped by its pid.
 */
import { assert, assertEquals } from "@std/assert";
import { basename } from "node:path";
import { JUPYTER_INSTALL, jupyterStatus, NOTEBOOKS_DIR } from "../tasks/notebooks.ts";
import { CHROMIUM_INSTALL, hasChromium, launchChromium } from "./support/chromium.ts";
import { requirement } from "./support/requirement.ts";

const NOTEBOOK_INSTALL = "apt-get install -y --no-install-recommends jupyter-notebook";

function hasClassicNotebook(): boolean {
  try {
    return Deno.statSync("/usr/bin/jupyter-notebook").isFile;
  } catch {
    return false;
  }
}

/** What each code cell of notebook 2 shows, in order: every marker under its own cell and under no other. */
const EXPECTED: string[][] = [
  ["Postgres: ", "faults: every 2nd query fails"],
  ['cell "twelve requests through the leaking handler"', "request active available leaked outcome"],
  ["The leak: available falls to 0, then every request fails"],
  ["request 2: canceling statement due to statement timeout", "request 12: Connection pool exhausted"],
  ["leaseId pid", "lib/demo/query_handlers.ts:16:"],
  ['cell "reset the pool"', "5 leaked connections reclaimed", "max: 5"],
  [],
];

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

Deno.test({
  name: "classic Notebook in Chromium, Run All on notebook 2: every cell's output shows under that cell, none lost",
  ...requirement("Jupyter (Debian nbclient + Deno kernel)", jupyterStatus().ok, JUPYTER_INSTALL),
  ...requirement("classic Jupyter Notebook", hasClassicNotebook(), NOTEBOOK_INSTALL),
  ...requirement("Chromium", hasChromium(), CHROMIUM_INSTALL),
  async fn() {
    // In test-artifacts/, at the notebooks' depth, so "../lib" resolves; the server may write checkpoints there.
    const dir = new URL("../test-artifacts/", import.meta.url).pathname;
    await Deno.mkdir(dir, { recursive: true });
    const name = `classic_${crypto.randomUUID().slice(0, 8)}_02_the_leak.ipynb`;
    await Deno.copyFile(`${NOTEBOOKS_DIR}02_the_leak.ipynb`, `${dir}${name}`);
    const port = freePort();
    const base = `http://127.0.0.1:${port}`;
    const server = new Deno.Command("/usr/bin/jupyter", {
      args: [
        "notebook",
        "--no-browser",
        "--ip",
        "127.0.0.1",
        "--port",
        String(port),
        "--port-retries=0",
        "--NotebookApp.token=",
        "--NotebookApp.password=",
        `--notebook-dir=${dir}`,
        ...(Deno.uid() === 0 ? ["--allow-root"] : []), // containers run as root; the server refuses without it
      ],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const serverLog = server.stderr.pipeThrough(new TextDecoderStream()).getReader();
    let log = "";
    const reading = (async () => {
      for (let chunk = await serverLog.read(); !chunk.done; chunk = await serverLog.read()) log += chunk.value;
    })();
    const browser = await launchChromium({ width: 1200, height: 1000 });
    try {
      await waitForServer(base, () => log);
      const { page } = browser;
      await page.goto(`${base}/notebooks/${name}`);
      await page.waitForFunction(
        () => {
          // deno-lint-ignore no-explicit-any
          const jupyter = (globalThis as any).Jupyter;
          return jupyter?.notebook?.kernel?.is_connected?.() && jupyter.notebook.kernel.info_reply?.status === "ok";
        },
        undefined,
        { timeout: 60_000 },
      );
      await page.evaluate(() => {
        // deno-lint-ignore no-explicit-any
        (globalThis as any).Jupyter.notebook.execute_all_cells();
      });
      await page.waitForFunction(
        () => {
          // deno-lint-ignore no-explicit-any
          const notebook = (globalThis as any).Jupyter.notebook;
          // deno-lint-ignore no-explicit-any
          const code = notebook.get_cells().filter((cell: any) => cell.cell_type === "code");
          // deno-lint-ignore no-explicit-any
          return !notebook.kernel_busy && code.every((cell: any) => typeof cell.input_prompt_number === "number");
        },
        undefined,
        { timeout: 120_000, polling: 250 },
      );
      // A late line would land now, under whatever cell it lands: give it the time a learner would.
      await page.waitForTimeout(1_000);
      const shown: string[] = await page.evaluate(() =>
        // deno-lint-ignore no-explicit-any
        (globalThis as any).Jupyter.notebook.get_cells().filter((cell: any) => cell.cell_type === "code")
          // deno-lint-ignore no-explicit-any
          .map((cell: any) => cell.output_area.element[0].innerText as string)
      );
      await page.screenshot({ path: `${dir}classic_notebook_02.png`, fullPage: true });

      assertEquals(shown.length, EXPECTED.length, "code cells");
      EXPECTED.forEach((markers, i) => {
        for (const marker of markers) {
          // The front end draws the HTML form: tables in tabs and cells, so compare with whitespace collapsed.
          const under = shown.flatMap((text, j) => (text.replace(/\s+/g, " ").includes(marker) ? [j + 1] : []));
          assertEquals(under, [i + 1], `"${marker}" shows under code cell ${i + 1} only:\n${shown[i]}`);
        }
      });
      const logLines = shown[3].trim().split("\n");
      assertEquals(logLines.length, 7, `the seven failed requests, no more, no less:\n${shown[3]}`);
      assert(shown[6].trim() === "", `the cleanup cell shows nothing:\n${shown[6]}`);
      assert(!shown.some((text) => /Error|Traceback/.test(text)), shown.join("\n---\n"));
    } finally {
      await browser.close();
      // Shut the kernel down through the server, then stop the server itself by its pid.
      await shutDownKernels(base).catch(() => {});
      try {
        server.kill("SIGTERM");
      } catch {
        // it already exited: its status and log say why
      }
      const status = await server.status;
      await reading.catch(() => {});
      await Deno.remove(`${dir}${name}`).catch(() => {});
      await Deno.remove(`${dir}.ipynb_checkpoints/${basename(name, ".ipynb")}-checkpoint.ipynb`).catch(() => {});
      assert(
        status.signal === "SIGTERM" || status.success,
        `the notebook server stopped: ${JSON.stringify(status)}\n${log}`,
      );
    }
  },
});

async function waitForServer(base: string, log: () => string): Promise<void> {
  for (let attempt = 0; attempt < 120; attempt++) {
    try {
      const response = await fetch(`${base}/api`);
      await response.body?.cancel();
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`The notebook server at ${base} did not answer within 30 s:\n${log()}`);
}

async function shutDownKernels(base: string): Promise<void> {
  const sessions: { id: string }[] = await (await fetch(`${base}/api/sessions`)).json();
  for (const session of sessions) {
    const response = await fetch(`${base}/api/sessions/${session.id}`, { method: "DELETE" });
    await response.body?.cancel();
  }
}

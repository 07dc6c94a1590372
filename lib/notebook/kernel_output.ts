/**
 * Output from notebook cells that lands under the cell that made it, in
 * every front end: {@linkcode show} for MIME bundles, {@linkcode print}
 * instead of `console.log`.
 *
 * @module
 */
import type { MimeBundle } from "./mime_bundle.ts";

/**
 * Shows a bundle in the Deno kernel; outside one (a script, a test) prints
 * its `text/plain`. Awaited, because an un-awaited display can be lost.
 */
export async function show(bundle: MimeBundle): Promise<void> {
  const jupyter = kernelJupyter();
  if (!jupyter) return console.log(bundle["text/plain"]);
  await jupyter.display(bundle, { raw: true });
  await kernelSent();
}

/**
 * `console.log` for notebook cells: prints its arguments as the running
 * cell's stdout, and resolves once the kernel has had the time to send it.
 * Outside a kernel it is `console.log`.
 *
 * Why not `console.log`: in the Deno kernel (2.9) printed text goes into a
 * queue that the kernel's server thread drains, stamping each line with the
 * execute request current *when it is drained*; the kernel reports the cell
 * "idle" after a fixed 5 ms sleep, without waiting for that queue. A line
 * drained late is dropped by every client that stops reading at idle
 * (JupyterLab, VS Code, classic Notebook, nbclient) or, once the next cell
 * has started, shown under that cell. `Deno.jupyter.broadcast` stamps the
 * message when it is called, but its promise can resolve before the message
 * leaves the kernel, so a cell's last output could still trail its "idle";
 * {@linkcode kernelSent} closes that gap.
 *
 * @example
 * ```ts ignore
 * await print("request", 3, { ok: false }); // request 3 { ok: false }
 * ```
 */
export async function print(...values: unknown[]): Promise<void> {
  const line = values.map((value) => typeof value === "string" ? value : Deno.inspect(value)).join(" ");
  const jupyter = kernelJupyter();
  if (!jupyter) return console.log(line);
  await jupyter.broadcast("stream", { name: "stdout", text: `${line}\n` });
  await kernelSent();
}

/**
 * How long {@linkcode show} and {@linkcode print} keep the cell running after
 * a broadcast, so the kernel sends the message before it reports "idle".
 * Measured with stock nbclient, 80-cell notebooks, five kernels at once on 2
 * busy cores: a cell ending right on its broadcast lost 11 of 640 outputs;
 * with a 0 ms timer after it, 1 of 640; with 20 ms, 0 of 640. 40 ms leaves
 * room; a notebook pays it once per output.
 */
export const KERNEL_SEND_MS = 40;

/** Lets the kernel's own tasks run for {@linkcode KERNEL_SEND_MS}: what it was given to send goes out meanwhile. */
function kernelSent(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, KERNEL_SEND_MS));
}

/** `Deno.jupyter`, or undefined outside a kernel (where reading it throws). */
function kernelJupyter(): typeof Deno.jupyter | undefined {
  try {
    return Deno.jupyter;
  } catch {
    return undefined;
  }
}

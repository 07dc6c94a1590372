"""Execute Leak Lab's notebooks headless, each in a fresh Deno kernel.

Run it with Debian's Python (``/usr/bin/python3``: it has nbclient), usually
through ``deno task notebooks``. Executed copies go to ``--out``; the committed
notebooks are never written. ``--html DIR`` also exports each one as HTML.

It uses nbclient's stock ``NotebookClient``, which, like JupyterLab, VS Code and
classic Notebook, stops reading a cell's outputs when the kernel reports "idle":
what these runs show is what a learner's front end shows. (An earlier version kept
reading past idle, which hid lines printed with ``console.log`` landing late or
under the next cell; the notebooks print with ``print()`` from ``lib/notebook.ts``
instead. ``tasks/output_placement.py`` measures placement.)

Exit status: 0 when every notebook ran without an error, 1 otherwise, 2 on bad
usage. One line per notebook on stdout: ``ok|FAILED  <name>  <seconds> s``.
"""

import argparse
import asyncio
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError


async def run_one(path, out_dir, html_dir, timeout, kernel):
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        kernel_name=kernel,
        timeout=timeout,
        resources={"metadata": {"path": str(path.parent)}},  # kernel cwd = the notebook's folder
    )
    started = time.monotonic()
    error = None
    try:
        await client.async_execute()
    except CellExecutionError as failure:
        error = str(failure)
    except Exception as failure:  # kernel died, timeout: report it like a failed cell
        error = f"{type(failure).__name__}: {failure}"
    seconds = time.monotonic() - started
    out_dir.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, out_dir / path.name)
    if html_dir is not None:
        from nbconvert import HTMLExporter

        body, _ = HTMLExporter().from_notebook_node(nb)
        html_dir.mkdir(parents=True, exist_ok=True)
        (html_dir / path.with_suffix(".html").name).write_text(body, encoding="utf-8")
    return path.name, seconds, error


async def run_all(args):
    limit = asyncio.Semaphore(args.jobs)

    async def limited(path):
        async with limit:
            return await run_one(path, args.out, args.html, args.timeout, args.kernel)

    results = await asyncio.gather(*(limited(Path(p).resolve()) for p in args.notebooks))
    failed = 0
    for name, seconds, error in results:
        print(f"{'ok' if error is None else 'FAILED':6}  {name}  {seconds:.1f} s", flush=True)
        if error is not None:
            failed += 1
            print(error, file=sys.stderr)
    return failed


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="+", help=".ipynb files to execute")
    parser.add_argument("--out", type=Path, required=True, help="folder for the executed copies")
    parser.add_argument("--html", type=Path, default=None, help="also export HTML into this folder")
    parser.add_argument("--timeout", type=int, default=120, help="seconds one cell may run (default 120)")
    parser.add_argument("--jobs", type=int, default=8, help="notebooks run at once, each in its own kernel (default 8)")
    parser.add_argument("--kernel", default="deno", help="kernel name (default deno)")
    args = parser.parse_args()
    for name in args.notebooks:
        if not Path(name).is_file():
            parser.error(f"no such notebook: {name}")
    if args.jobs < 1:
        parser.error(f"--jobs must be at least 1: current value is {args.jobs}")
    started = time.monotonic()
    failed = asyncio.run(run_all(args))
    total = time.monotonic() - started
    print(f"{len(args.notebooks) - failed} of {len(args.notebooks)} notebooks ran clean in {total:.1f} s", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Does every output of a notebook land under the cell that made it, in a stock Jupyter client?

Run it with Debian's Python (``/usr/bin/python3``). For each notebook it runs:

- one **reference** execution: nbclient, but after each cell's "idle" it keeps reading
  iopub for ``--settle`` seconds before starting the next cell. Output the kernel sends
  late still carries that cell's header then (the next cell has not started), so the
  reference knows which cell made every output, and counts how many arrived after idle;
- ``--runs`` **stock** executions: plain ``nbclient.NotebookClient``, which, like
  JupyterLab, VS Code and classic Notebook, stops reading a cell's output at "idle".

Then it compares each stock run with the reference, cell by cell, on the outputs'
text (digits and hex ids masked): an output missing from its cell is **misplaced** when
it shows up under another cell, **lost** when it shows up nowhere. (An output whose text
differs in its own cell, a table with one row more, say, is counted apart as changed.)

Prints one line per notebook and a total; ``--json FILE`` writes the counts.
Exit status: 0 when nothing was late, lost or misplaced, 1 otherwise, 2 on bad usage.
"""

import argparse
import asyncio
import json
import queue
import re
import sys
from collections import Counter
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionComplete


class ReferenceClient(NotebookClient):
    """Reads each cell's iopub for ``settle`` seconds past "idle"; counts what came late."""

    settle = 1.0

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.late = []

    async def _async_poll_output_msg(self, parent_msg_id, cell, cell_index):
        await super()._async_poll_output_msg(parent_msg_id, cell, cell_index)
        while True:
            try:
                msg = await self.kc.iopub_channel.get_msg(timeout=self.settle)
            except queue.Empty:
                return
            if msg["parent_header"].get("msg_id") != parent_msg_id:
                continue
            if msg["msg_type"] in ("stream", "display_data", "execute_result", "error"):
                self.late.append({"cell": cell_index, "type": msg["msg_type"], "content": str(msg["content"])[:300]})
            try:
                self.process_message(msg, cell, cell_index)
            except CellExecutionComplete:
                pass


ANSI = re.compile(r"\x1b\[[0-9;]*m")
HEX = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\b[0-9a-f]{8,}\b")
DIGITS = re.compile(r"\d+")
SPACES = re.compile(r"[ \t]+")  # table columns widen with their numbers


def key(output):
    """An output's identity across runs: its type and its text, numbers and ids masked."""
    kind = output.get("output_type")
    if kind == "stream":
        text = output.get("text", "")
    elif kind == "error":
        text = f"{output.get('ename')}: {output.get('evalue')}"
    else:
        text = output.get("data", {}).get("text/plain", "")
    if isinstance(text, list):
        text = "".join(text)
    text = SPACES.sub(" ", DIGITS.sub("#", HEX.sub("H", ANSI.sub("", text))))
    return f"{kind}:{text[:400]}"


def cell_keys(nb):
    return [Counter(key(o) for o in cell.get("outputs", [])) for cell in nb.cells if cell.cell_type == "code"]


def compare(reference, stock):
    """(outputs, lost, misplaced, changed) of one stock run against the reference.

    An output missing from its cell and found under another is misplaced; one
    missing while its own cell has an output the reference lacks is changed
    (same place, other text: a different row count, say), which is no matter
    of placement; the rest are lost.
    """
    missing = [ref - got for ref, got in zip(reference, stock)]
    extra = [got - ref for ref, got in zip(reference, stock)]
    misplaced = 0
    for j, counter in enumerate(extra):
        for k in list(counter):
            for i, gone in enumerate(missing):
                if i != j and gone[k] > 0:
                    moved = min(counter[k], gone[k])
                    misplaced += moved
                    gone[k] -= moved
                    counter[k] -= moved
    changed = 0
    for gone, more in zip(missing, extra):
        paired = min(sum(gone.values()), sum(more.values()))
        changed += paired
    lost = sum(sum(gone.values()) for gone in missing) - changed
    outputs = sum(sum(c.values()) for c in reference)
    return outputs, lost, misplaced, changed


async def execute(path, client_class, kernel, timeout):
    nb = nbformat.read(path, as_version=4)
    client = client_class(nb, kernel_name=kernel, timeout=timeout, resources={"metadata": {"path": str(path.parent)}})
    await client.async_execute()  # a failing cell raises: the notebook itself is broken, not its placement
    return nb, getattr(client, "late", [])


async def check(path, args, limit):
    async with limit:
        reference, late = await execute(path, ReferenceClient, args.kernel, args.timeout)
    async def stock_run():
        async with limit:
            nb, _ = await execute(path, NotebookClient, args.kernel, args.timeout)
            return nb
    stock = await asyncio.gather(*(stock_run() for _ in range(args.runs)))
    expected = cell_keys(reference)
    runs = []
    for nb in stock:
        outputs, lost, misplaced, changed = compare(expected, cell_keys(nb))
        runs.append({"outputs": outputs, "lost": lost, "misplaced": misplaced, "changed": changed})
    return path.name, {"late_in_reference": len(late), "late": late, "runs": runs}


async def main_async(args):
    ReferenceClient.settle = args.settle
    limit = asyncio.Semaphore(args.jobs)
    results = await asyncio.gather(*(check(Path(p).resolve(), args, limit) for p in args.notebooks))
    report = dict(results)
    totals = Counter()
    for name, result in report.items():
        run_totals = Counter()
        for run in result["runs"]:
            run_totals.update(run)
        totals.update(run_totals)
        totals["late_in_reference"] += result["late_in_reference"]
        print(
            f"{name}: {result['late_in_reference']} late in the reference; over {len(result['runs'])} stock runs "
            f"{run_totals['lost']} lost, {run_totals['misplaced']} misplaced ({run_totals['changed']} changed text in place) "
            f"of {run_totals['outputs']} outputs",
            flush=True,
        )
    print(
        f"total: {totals['lost'] + totals['misplaced']} of {totals['outputs']} outputs lost or misplaced "
        f"({totals['lost']} lost, {totals['misplaced']} misplaced; {totals['changed']} changed text in place) over "
        f"{args.runs} stock run(s) of {len(report)} notebook(s); {totals['late_in_reference']} sent after idle "
        f"in the reference run(s)",
        flush=True,
    )
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2), encoding="utf-8")
    bad = totals["lost"] + totals["misplaced"] + totals["late_in_reference"]
    return 1 if bad else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="+", help=".ipynb files to check")
    parser.add_argument("--runs", type=int, default=2, help="stock runs per notebook (default 2)")
    parser.add_argument("--settle", type=float, default=1.0, help="seconds the reference reads past idle (default 1)")
    parser.add_argument("--jobs", type=int, default=5, help="kernels at once (default 5)")
    parser.add_argument("--timeout", type=int, default=120, help="seconds one cell may run (default 120)")
    parser.add_argument("--kernel", default="deno", help="kernel name (default deno)")
    parser.add_argument("--json", default=None, help="also write the counts to this file")
    args = parser.parse_args()
    for name in args.notebooks:
        if not Path(name).is_file():
            parser.error(f"no such notebook: {name}")
    if args.runs < 1 or args.jobs < 1:
        parser.error(f"--runs and --jobs must be at least 1: current values are {args.runs} and {args.jobs}")
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())

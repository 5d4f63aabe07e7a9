"""`make notebook-times`: how long each solution notebook takes, as a student would run it.

Executes each topic's solution notebook (the released notebook with the answers in) in a real
Jupyter kernel, at full size unless ``--smoke`` (COURSE_SMOKE=1), with the machine's default
thread settings, and prints the total time, the slowest cells and whether any saved output
carries text progress-bar lines (bars should render as widgets and leave none behind).

    python scripts/notebook_times.py [--smoke] [--save DIR] [topic ...]
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from datetime import datetime
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(CHECKOUT))
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(CHECKOUT), os.environ.get("PYTHONPATH")]))

PROGRESS_LINE = re.compile(r"\d+%\|")  # tqdm's text bar: " 40%|████      | 4/10 [...]"


def stamp(text: str) -> datetime:
    return datetime.fromisoformat(text.rstrip("Z"))


def run(topic: str, smoke: bool, save: Path | None = None) -> dict:
    import nbclient
    import nbformat

    from autograder.manifest import load_assignment
    from autograder.release import student_notebook

    a = load_assignment(topic)
    nb = nbformat.reads(student_notebook(a.solution_path, strip=False), as_version=4)
    client = nbclient.NotebookClient(nb, timeout=1800, kernel_name="python3", record_timing=True,
                                     resources={"metadata": {"path": str(a.root)}})
    t0 = time.perf_counter()
    client.execute()
    total = time.perf_counter() - t0
    if save is not None:
        save.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, save / f"{topic}.ipynb")
    cells, progress_lines, errors = [], 0, 0
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        timing = cell.metadata.get("execution", {})
        start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
        if start and end:
            seconds = (stamp(end) - stamp(start)).total_seconds()
            first = next((line for line in cell.source.splitlines() if line.strip() and not line.startswith("#")), "")
            cells.append((seconds, i, first[:60]))
        for out in cell.outputs:
            errors += out.output_type == "error"
            text = out.get("text", "") if out.output_type == "stream" else ""
            progress_lines += len(PROGRESS_LINE.findall(text))
    return {"topic": topic, "seconds": total, "slowest": sorted(cells, reverse=True)[:3],
            "progress_lines": progress_lines, "errors": errors}


def main() -> None:
    from autograder.manifest import list_topics

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("topics", nargs="*")
    parser.add_argument("--smoke", action="store_true", help="COURSE_SMOKE=1: every experiment at a tiny size")
    parser.add_argument("--save", type=Path, help="write each executed notebook into this folder")
    args = parser.parse_args()
    os.environ.pop("MPLBACKEND", None)  # figures inline, as in Jupyter
    if args.smoke:
        os.environ["COURSE_SMOKE"] = "1"
    size = "smoke" if args.smoke else "full"
    print(f"{os.cpu_count()} CPUs, {size} size")
    for topic in args.topics or list_topics():
        r = run(topic, args.smoke, args.save)
        slow = "; ".join(f"cell {i} {s:.0f} s ({src})" for s, i, src in r["slowest"])
        print(f"{topic:13s} {r['seconds']:7.1f} s  errors={r['errors']}  text progress lines={r['progress_lines']}"
              f"  slowest: {slow}", flush=True)


if __name__ == "__main__":
    main()

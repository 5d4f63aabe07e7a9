"""`make demo`: grade the bundled examples of an assignment and print the per-question table.

Grades three submissions through the same path an instructor uses (notebook files on disk):
the reference solution, the blank student template, and a partly-correct sample made from the
template with some questions answered by the reference and one by a known-wrong mutant.
Each results.json lands in build/demo/<topic>/<submission>/.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("PYTORCH_NVML_BASED_CUDA_CHECK", "1")
# Run this checkout's code, whatever the virtual environment's editable install points at (a second
# checkout run with the first one's .venv must not grade, or write caches into, the first one).
CHECKOUT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(CHECKOUT))
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(CHECKOUT), os.environ.get("PYTHONPATH")]))

from autograder.api import grade  # noqa: E402
from autograder.manifest import REPO, load_assignment  # noqa: E402
from autograder.notebook import Cell, parse_percent, read_cells, submission_from_cells  # noqa: E402


def partial_submission(a, out: Path) -> Path:
    """The student template with the first half of the questions solved and one mutant."""
    nb = json.loads(a.notebook_path.read_text())
    ref = read_cells(a.solution_path)
    solved = {c.question: c.source for c in ref if c.question and c.kind == "code"}
    graded = [q.id for q in a.graded]
    keep = set(graded[: len(graded) // 2])
    mutants = sorted(a.mutants_dir.glob("*.py"))
    mutant = next((m for m in mutants if any(f"# MUTANT: {q}" in m.read_text() for q in keep)), None)
    wrong = {}
    if mutant:
        wrong = {q: c.source for q, c in submission_from_cells(parse_percent(mutant.read_text())).graded.items()}
    for cell in nb["cells"]:
        q = Cell(cell["cell_type"], "".join(cell["source"]), 0).question
        if cell["cell_type"] == "code" and q in keep:
            cell["source"] = wrong.get(q, solved[q])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(nb, indent=1))
    return out


def main(topic: str = "optimizers") -> int:
    a = load_assignment(topic)
    root = REPO / "build" / "demo" / topic
    subs = {"reference": a.solution_path, "blank template": a.notebook_path,
            "partial sample": partial_submission(a, root / "partial_submission.ipynb")}
    rows = []
    for name, path in subs.items():
        t0 = time.perf_counter()
        r = grade(a, path, "cpu")
        r.write(root / name.replace(" ", "_"))
        rows.append((name, r, time.perf_counter() - t0))
        print(r.table(details=False), end="\n\n")
    qs = [q.id for q in a.graded]
    width = max(len(q) for q in qs) + 2
    print(f"{'submission':<16}" + "".join(f"{q:>{width}}" for q in qs) + f"{'total':>10}{'seconds':>9}")
    for name, r, sec in rows:
        cells = "".join(f"{r.questions[q][0]:>{width}.2f}" for q in qs)
        print(f"{name:<16}{cells}{r.score:>6.2f}/{r.max_score:<3g}{sec:>9.2f}")
    print(f"{'max':<16}" + "".join(f"{r.questions[q][1]:>{width}g}" for q in qs))
    print(f"\nresults.json files: {root.relative_to(REPO)}/*/results.json")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))

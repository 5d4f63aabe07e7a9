"""``make gradescope HW=<topic>``: the autograder zip Gradescope runs, and the run inside it.

Gradescope unpacks the zip into /autograder/source, runs ``setup.sh`` once when the image is
built, then ``run_autograder`` per submission, which must leave
/autograder/results/results.json. The zip carries the engine, ``shared/``, the assignment's
public and hidden tests and its reference solution (needed to compute the expected values).
"""

from __future__ import annotations

import json
import time
import zipfile
from pathlib import Path

from .manifest import REPO, Assignment

TORCH = "torch==2.14.1"

SETUP_SH = """#!/usr/bin/env bash
# Runs once when Gradescope builds the image (Ubuntu): Python 3.11 in a venv, the pinned packages.
set -euo pipefail
apt-get update
apt-get install -y python3.11 python3.11-venv
python3.11 -m venv /autograder/venv
/autograder/venv/bin/pip install --upgrade pip
/autograder/venv/bin/pip install -r /autograder/source/requirements.txt
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Runs per submission: grades /autograder/submission into /autograder/results/results.json.
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
PYTHON="${{AUTOGRADER_PYTHON:-$ROOT/venv/bin/python}}"
[ -x "$PYTHON" ] || PYTHON=python3
cd "$ROOT/source" || exit 1
exec "$PYTHON" -m autograder gradescope-run {topic} --root "$ROOT"
"""


def _files(a: Assignment) -> list[Path]:
    repo = a.repo
    files = [*repo.glob("autograder/*.py"), *(repo / "autograder" / a.id / "tests").glob("*.py"),
             *repo.glob("shared/*.py"), *a.root.rglob("*"), a.solution_path, repo / "pyproject.toml",
             repo / "course.toml"]
    return sorted({f for f in files if f.is_file() and "__pycache__" not in f.parts})


def requirements() -> str:
    import tomllib

    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    return "\n".join([TORCH, *(d for d in deps if not d.startswith("torch"))]) + "\n"


def build(a: Assignment, out: Path) -> Path:
    """Write the zip; the same sources give the same bytes (fixed timestamps and order)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    stamp = (2020, 1, 1, 0, 0, 0)

    def add(z: zipfile.ZipFile, name: str, data: bytes, mode: int = 0o644) -> None:
        info = zipfile.ZipInfo(name, stamp)
        info.external_attr = (0o100000 | mode) << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        z.writestr(info, data)

    with zipfile.ZipFile(out, "w") as z:
        add(z, "setup.sh", SETUP_SH.encode(), 0o755)
        add(z, "run_autograder", RUN_AUTOGRADER.format(topic=a.id).encode(), 0o755)
        add(z, "requirements.txt", requirements().encode())
        for f in _files(a):
            add(z, f.relative_to(a.repo).as_posix(), f.read_bytes())
    return out


def run(topic: str, root: Path) -> Path:
    """Grade the submission under ``root`` (Gradescope's /autograder); always writes results.json."""
    from .api import grade
    from .batch import _pick
    from .manifest import load_assignment

    results = root / "results"
    results.mkdir(parents=True, exist_ok=True)
    path = results / "results.json"
    t0 = time.perf_counter()
    try:
        a = load_assignment(topic)
        submission = _pick(root / "submission", a.id)
        if submission is None:
            raise FileNotFoundError("the submission is empty: upload your .ipynb notebook")
        return grade(a, submission, "cpu").write(results)
    except Exception as e:  # the student must see a result, never a silent failure
        path.write_text(json.dumps({"score": 0.0, "output": f"The autograder could not grade this submission: {e}",
                                    "tests": [], "extra_data": {"seconds": time.perf_counter() - t0}}, indent=2))
        return path

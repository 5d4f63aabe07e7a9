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

CPU_INDEX = "https://download.pytorch.org/whl/cpu"

SETUP_SH = """#!/usr/bin/env bash
# Runs once when Gradescope builds the image (Ubuntu): Python 3.11 in a venv, the pinned packages.
# PyTorch: {torch_note}.
# AUTOGRADER_ROOT, PYTHON and SKIP_APT=1 run the same steps elsewhere (a test, a local image).
set -euo pipefail
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
if [ -z "${{SKIP_APT:-}}" ]; then
    apt-get update
    apt-get install -y python3.11 python3.11-venv
fi
"${{PYTHON:-python3.11}}" -m venv "$ROOT/venv"
"$ROOT/venv/bin/python" -m pip install --upgrade pip
"$ROOT/venv/bin/python" -m pip install {torch_args}
"$ROOT/venv/bin/python" -m pip install -r "$ROOT/source/requirements.txt"
"""


def wants_cuda(a: Assignment) -> bool:
    """``[gradescope] cuda = true`` in assignment.toml: the image gets the CUDA build of PyTorch."""
    import tomllib

    manifest = a.root / "assignment.toml"
    data = tomllib.loads(manifest.read_text()) if manifest.exists() else {}
    return bool(data.get("gradescope", {}).get("cuda", False))


def setup_sh(a: Assignment) -> str:
    if wants_cuda(a):
        return SETUP_SH.format(torch_note="the CUDA build from PyPI (about 6 GB: the assignment asks for CUDA)",
                               torch_args=f'"{TORCH}"')
    return SETUP_SH.format(torch_note="the CPU-only build from PyTorch's CPU index (no 6 GB CUDA libraries)",
                           torch_args=f'--index-url {CPU_INDEX} "{TORCH}+cpu"')


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
        add(z, "setup.sh", setup_sh(a).encode(), 0o755)
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

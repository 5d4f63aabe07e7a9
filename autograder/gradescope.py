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
# AUTOGRADER_ROOT, PYTHON and SKIP_APT=1 run the same steps elsewhere (a test, a local image); SKIP_PREPARE=1
# stops before the last step, which needs the real packages (a test that installs stand-in wheels).
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
# The reference observations, once, with a salt drawn now and kept where graded code cannot read it:
# each submission's run_autograder then only grades.
if [ -z "${{SKIP_PREPARE:-}}" ]; then
    cd "$ROOT/source" && "$ROOT/venv/bin/python" -m autograder gradescope-prepare {topic} --root "$ROOT"
fi
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
                               torch_args=f'"{TORCH}"', topic=a.id)
    return SETUP_SH.format(torch_note="the CPU-only build from PyTorch's CPU index (no 6 GB CUDA libraries)",
                           torch_args=f'--index-url {CPU_INDEX} "{TORCH}+cpu"', topic=a.id)


RUN_AUTOGRADER = """#!/usr/bin/env bash
# Runs per submission: grades /autograder/submission into /autograder/results/results.json.
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
PYTHON="${{AUTOGRADER_PYTHON:-$ROOT/venv/bin/python}}"
[ -x "$PYTHON" ] || PYTHON=python3
cd "$ROOT/source" || exit 1
exec "$PYTHON" -m autograder gradescope-run {topic} --root "$ROOT"
"""


def _files(a: Assignment) -> list[Path]:
    """By folder: the engine (without the other topics' folders), this topic's hidden tests and mutants (the
    mistakes feedback can name, ``autograder.diagnose``), all of
    ``shared/`` (code, weights, data), the assignment folder, the reference solution."""
    repo = a.repo
    topics = {p.parent.name for p in (repo / "autograder").glob("*/tests")}
    engine = [p for p in (repo / "autograder").rglob("*")
              if p.relative_to(repo / "autograder").parts[0] not in topics]
    files = [*engine, *(repo / "autograder" / a.id / "tests").rglob("*"), *a.mutants_dir.rglob("*"),
             *(repo / "shared").rglob("*"),
             *a.root.rglob("*"), a.solution_path, repo / "pyproject.toml", repo / "course.toml"]
    return sorted({f for f in files if f.is_file() and not any(
        part == "__pycache__" or part.startswith(".") for part in f.relative_to(repo).parts)})


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


def prepared_path(root: Path, topic: str) -> Path:
    return root / "prepared" / f"{topic}-cpu.json"


def mistakes_path(root: Path, topic: str) -> Path:
    return root / "prepared" / f"{topic}-cpu-mistakes.json"


def prepare(topic: str, root: Path) -> Path:
    """``setup.sh``'s last step: the reference observations of every test, with a fresh private salt, and
    with the same salt the mutants' signatures (the mistakes feedback names)."""
    from . import mutants
    from .collect import collect
    from .manifest import load_assignment
    from .reference import prepare as prepare_reference
    from .reference import use_prepared

    a = load_assignment(topic)
    cases = collect(a, hidden=True)
    path = prepare_reference(a, cases, "cpu", prepared_path(root, a.id))
    if use_prepared(a, "cpu", path):
        mutants.prepare(a, cases, "cpu", mistakes_path(root, a.id))
    return path


def run(topic: str, root: Path) -> Path:
    """Grade the submission under ``root`` (Gradescope's /autograder); always writes results.json."""
    from . import mutants
    from .api import grade
    from .batch import _pick
    from .manifest import load_assignment
    from .reference import use_prepared

    results = root / "results"
    results.mkdir(parents=True, exist_ok=True)
    path = results / "results.json"
    t0 = time.perf_counter()
    try:
        a = load_assignment(topic)
        if use_prepared(a, "cpu", prepared_path(root, a.id)):  # computed by setup.sh; else computed now
            mutants.use_prepared(a, "cpu", mistakes_path(root, a.id))
        submission = _pick(root / "submission", a.id)
        if submission is None:
            raise FileNotFoundError("the submission is empty: upload your .ipynb notebook")
        return grade(a, submission, "cpu", diagnose=True).write(results)
    except Exception as e:  # the student must see a result, never a silent failure
        path.write_text(json.dumps({"score": 0.0, "output": f"The autograder could not grade this submission: {e}",
                                    "tests": [], "extra_data": {"seconds": time.perf_counter() - t0}}, indent=2))
        return path


def unpack_prepared(path: Path, a: Assignment, tmp: Path) -> tuple[Path, dict[str, str]] | str:
    """The zip unpacked alone into ``tmp/autograder/source`` and prepared as ``setup.sh`` does (with this
    interpreter instead of a fresh venv): the ``/autograder``-shaped root and the environment that runs its
    ``run_autograder``; or why the preparation failed."""
    import os
    import subprocess
    import sys

    root = tmp / "autograder"
    with zipfile.ZipFile(path) as z:
        z.extractall(root / "source")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTOGRADER_", "PYTHON", "COURSE_"))}
    env.update(AUTOGRADER_ROOT=str(root), AUTOGRADER_PYTHON=sys.executable, AUTOGRADER_CACHE=str(tmp / "cache"))
    prep = subprocess.run([sys.executable, "-m", "autograder", "gradescope-prepare", a.id, "--root", str(root)],
                          cwd=root / "source", env=env, capture_output=True, text=True, timeout=1800)
    if prep.returncode:
        return f"{a.id}: setup.sh's preparation fails: {(prep.stderr or prep.stdout).strip()[-800:]}"
    return root, env


def _run_autograder(root: Path, env: dict[str, str], a: Assignment, notebook: str) -> tuple[dict | None, str]:
    """``notebook`` as the only file of ``root/submission``, graded by ``run_autograder``: its results.json
    (None when it wrote none) and what went wrong ("" when it exited cleanly)."""
    import subprocess

    sub = root / "submission"
    if sub.exists():
        for f in sub.iterdir():
            f.unlink()
    sub.mkdir(exist_ok=True)
    (sub / f"{a.id}.ipynb").write_text(notebook)
    (root / "results" / "results.json").unlink(missing_ok=True)
    proc = subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env, capture_output=True,
                          text=True, timeout=1800)
    failed = (proc.stderr or proc.stdout).strip()[-500:] if proc.returncode else ""
    try:
        return json.loads((root / "results" / "results.json").read_text()), failed
    except (OSError, ValueError):
        return None, failed or "no results.json"


def verify(path: Path, a: Assignment) -> list[str]:
    """The zip as Gradescope receives it: unpacked alone into an ``/autograder``-shaped folder, prepared as
    ``setup.sh`` does (with this interpreter instead of a fresh venv), the reference graded at full
    marks, the blank template at zero and a mutant with its own mistake named, through ``run_autograder``.
    What went wrong (empty: nothing)."""
    import tempfile

    from .api import mutant_notebook
    from .mutants import diagnosable
    from .release import student_notebook

    problems = []
    with tempfile.TemporaryDirectory(prefix="gradescope-") as tmp:
        unpacked = unpack_prepared(path, a, Path(tmp))
        if isinstance(unpacked, str):
            return [unpacked]
        root, env = unpacked
        blank = (root / "source" / "assignments" / a.id / f"{a.id}.ipynb").read_text()
        for label, text, want in (("reference", student_notebook(a.solution_path, strip=False), "full"),
                                  ("blank template", blank, "zero")):
            results, failed = _run_autograder(root, env, a, text)
            if results is None:
                problems.append(f"{a.id}: run_autograder wrote no results.json for the {label} ({failed})")
                continue
            score, top = results.get("score"), sum(t.get("max_score", 0) for t in results.get("tests", []))
            ok = (score == 0.0 and results.get("tests")) if want == "zero" else (top > 0 and abs(score - top) < 1e-6)
            if failed or not ok:
                problems.append(f"{a.id}: the {label} scores {score} of {top} from the unpacked zip, not {want} "
                                f"marks: {results.get('output', '')[:300]}")
        mutant = next((p for q in a.graded for p in diagnosable(a, q.id)), None)
        if mutant is not None:  # the mistakes setup.sh prepared are named from the zip alone
            question, text = mutant_notebook(a, mutant)
            results, failed = _run_autograder(root, env, a, text)
            named = ((results or {}).get("extra_data") or {}).get("diagnoses", {})
            if named.get(question) != mutant.stem:
                problems.append(f"{a.id}: graded from the unpacked zip, the mutant {mutant.stem} is diagnosed as "
                                f"{named.get(question)!r} {failed}")
    return problems

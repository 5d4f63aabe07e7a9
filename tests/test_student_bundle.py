"""The student bundle: no answer inside, and check() working from it where the repository is not importable.

A fresh virtual environment with torch would cost minutes and gigabytes, so the environments here
are bare venvs that see this interpreter's third-party packages (torch, numpy, IPython, pip) through
a ``.pth`` line, but not the repository: its editable install is a ``.pth`` of that site-packages,
which Python does not process when the folder is only added to the path. The course package comes
from the bundle's wheel, installed with ``--no-deps`` (its dependencies are those packages).
"""

from __future__ import annotations

import json
import os
import subprocess
import zipfile
from pathlib import Path

import pytest

from autograder.bundle import RUNTIME, build, secrets, student_venv, verify, wheel_name
from autograder.manifest import REPO, list_topics, load_assignment
from autograder.release import bundle_location, student_notebook

TOPICS = list_topics()

DRIVER = r'''
"""Run notebooks' code cells the way Jupyter does (an IPython shell), then check(); print what it printed."""
import contextlib, io, json, sys
from IPython.core.interactiveshell import InteractiveShell

shell = InteractiveShell.instance()
report = {}
for label, path, extra in json.loads(sys.argv[1]):
    shell.reset(new_session=False)
    cells = [c for c in json.load(open(path))["cells"] if c["cell_type"] == "code"]
    sources = ["".join(c["source"]) for c in cells]
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        ok = shell.run_cell(sources[0]).success  # the setup cell
        from autograder.notebook import Cell  # importable now, from the bundle
        for src in sources[1:]:
            cell = Cell("code", src, 0)
            if cell.question or cell.import_only:
                ok = shell.run_cell(src).success and ok
        for src in extra:
            shell.run_cell(src)
    import autograder
    report[label] = {"setup_ok": ok, "out": buf.getvalue(), "autograder": autograder.__file__}
print(json.dumps(report))
'''


def _env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "PIP_"))}
    return {**env, "MPLBACKEND": "Agg", "PYTORCH_NVML_BASED_CUDA_CHECK": "1", **extra}


def _run(python: Path, args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(python), *args], cwd=cwd, capture_output=True, text=True, timeout=600,
                          env=_env(**env))


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    return build(tmp_path_factory.mktemp("bundle") / "student")


@pytest.fixture(scope="module")
def student_python(bundle, tmp_path_factory) -> Path:
    """A venv where the course package comes only from the bundle's wheel."""
    python = student_venv(tmp_path_factory.mktemp("venv") / "student")
    cwd = tmp_path_factory.mktemp("nowhere")
    before = _run(python, ["-c", "import autograder"], cwd)
    assert before.returncode != 0, "the repository is importable in the student venv: the test would prove nothing"
    done = _run(python, ["-m", "pip", "install", "-q", "--no-deps", "--no-index", str(bundle / wheel_name())], cwd)
    assert done.returncode == 0, done.stderr
    return python


def _reference_notebook(a, path: Path) -> Path:
    """The master with its solutions, released like the student notebook (metadata, setup cell)."""
    path.write_text(student_notebook(a.solution_path, strip=False, assignment=a.id, bundle=bundle_location(REPO)))
    return path


# ---------------------------------------------------------------------------- what is (not) inside


def test_bundle_holds_no_answer(bundle):
    assert verify(bundle) == []
    found = secrets()
    for topic in TOPICS:  # the search covers every graded cell of every master and every hidden test file
        a = load_assignment(topic)
        assert any(k.startswith(f"{topic}: the master's") for k in found)
        assert all(f"{topic}: tests/{p.name}" in found for p in a.hidden_tests.glob("test_*.py"))
    with zipfile.ZipFile(bundle / wheel_name()) as z:
        names = z.namelist()
    engine = {n.split("/")[1] for n in names if n.startswith("autograder/") and n.count("/") == 1}
    assert engine == set(RUNTIME) | {"__main__.py"}
    assert all(n.startswith(("autograder/", "shared/", "dlcourse_student-")) for n in names)
    for topic in TOPICS:
        assert f"autograder/course/assignments/{topic}/snapshots.json" in names
        assert (bundle / f"{topic}.ipynb").exists()


def test_verify_finds_a_planted_answer(bundle, tmp_path):
    """The search works: a solution region copied into a bundle file is reported."""
    a = load_assignment(TOPICS[0])
    label, secret = next((k, v) for k, v in secrets().items() if k.startswith(f"{a.id}: solution region"))
    planted = tmp_path / "planted"
    planted.mkdir()
    (planted / "notes.py").write_text("# my notes\n" + secret + "\n")
    assert any(label in leak for leak in verify(planted))


def test_verify_finds_graded_code_written_differently(tmp_path):
    """Not only the master's text: a course utility that defines what an assignment grades (here a
    softmax written unlike the transformers master) is reported, whichever assignment it belongs to."""
    if "transformers" not in TOPICS:
        pytest.skip("no transformers topic")
    planted = tmp_path / "planted"
    (planted / "shared").mkdir(parents=True)
    (planted / "shared" / "helpers.py").write_text("import torch\n\n\ndef softmax(z, dim=-1):\n"
                                                  "    e = (z - z.logsumexp(dim, keepdim=True)).exp()\n    return e\n")
    assert any("defines softmax, which transformers's softmax grades" in leak for leak in verify(planted))


def test_bundle_is_reproducible(bundle, tmp_path):
    again = build(tmp_path / "again")
    assert (again / wheel_name()).read_bytes() == (bundle / wheel_name()).read_bytes()


# ---------------------------------------------------------------------------- check() from the bundle


def test_check_in_a_kernel_from_the_bundle(bundle, student_python, tmp_path):
    """Each released notebook in an IPython shell: the blank one fails every question without crashing,
    the reference passes every public test, and check() prints its summary once."""
    jobs = []
    for topic in TOPICS:
        a = load_assignment(topic)
        blank = tmp_path / f"Copy of {topic}.ipynb"
        blank.write_text((bundle / f"{topic}.ipynb").read_text())
        first = a.graded[0].id
        jobs.append([f"{topic} blank", str(blank), ["check()", f"check({first + 'x'!r})"]])
        jobs.append([f"{topic} reference", str(_reference_notebook(a, tmp_path / f"{topic} (1).ipynb")),
                     ["check()"]])
    script = tmp_path / "driver.py"
    script.write_text(DRIVER)
    proc = _run(student_python, [str(script), json.dumps(jobs)], tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    for topic in TOPICS:
        a = load_assignment(topic)
        blank, ref = report[f"{topic} blank"], report[f"{topic} reference"]
        assert blank["setup_ok"] and ref["setup_ok"], (blank["out"], ref["out"])
        assert str(REPO) not in blank["autograder"]
        out = blank["out"]
        assert "Traceback" not in out and "<check:" not in out
        for q in a.graded:
            assert f"\N{BALLOT X} {q.id}: not implemented yet" in out, out
        assert out.count("public tests passed") == 1, out
        assert f"use one of: {', '.join(q.id for q in a.graded)}" in out
        assert "\n0/" in out, out
        ref_out = ref["out"]
        assert "\N{BALLOT X}" not in ref_out and ref_out.count("public tests passed") == 1, ref_out
        assert str(REPO) not in blank["out"] + ref_out


def test_cli_check_from_the_bundle(bundle, student_python, tmp_path):
    """`python -m autograder check` where the notebook's folder has no assignment.toml and its name is not the
    assignment's: the metadata says which it is."""
    for topic in TOPICS:
        a = load_assignment(topic)
        nb = tmp_path / f"{topic} (2).ipynb"
        nb.write_text((bundle / f"{topic}.ipynb").read_text())
        proc = _run(student_python, ["-m", "autograder", "check", nb.name], tmp_path)
        assert proc.returncode == 1, proc.stderr
        assert "Traceback" not in proc.stdout + proc.stderr
        lines = proc.stdout.strip().splitlines()
        assert len(lines) == len(a.graded) + 1, proc.stdout  # one line per question, and the summary
    a = load_assignment(TOPICS[0])
    q = a.graded[0].id
    ref = _reference_notebook(a, tmp_path / "mine.ipynb")
    proc = _run(student_python, ["-m", "autograder", "check", ref.name, "--question", q], tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert all(line.startswith(("\N{CHECK MARK} " + q, q)) for line in proc.stdout.strip().splitlines())
    # a known mistake is named from the bundle alone (its diagnoses.json), in words, without the mutant's name
    from autograder import diagnose
    from autograder.api import mutant_notebook

    shipped = diagnose.read(a.diagnoses_path)
    named = next(m for m in shipped
                 if diagnose.diagnose(m.tests, [x for x in shipped if x.question == m.question]) is m)
    q, text = mutant_notebook(a, a.mutants_dir / f"{named.name}.py")
    (tmp_path / "wrong.ipynb").write_text(text)
    proc = _run(student_python, ["-m", "autograder", "check", "wrong.ipynb", "--question", q], tmp_path)
    assert proc.returncode == 1 and named.line() in proc.stdout, proc.stdout + proc.stderr
    assert named.name not in proc.stdout


def test_colab_first_cell_installs_the_bundle(bundle, tmp_path):
    """Colab: torch and friends are there, the course packages are not; the first cell installs the bundle
    from the location course.toml gives, and check() works right after."""
    (tmp_path / "course.toml").write_text(f'[student]\nbundle = "{bundle / wheel_name()}"\n')
    where = bundle_location(tmp_path)
    assert where == str(bundle / wheel_name())
    a = load_assignment(TOPICS[0])
    nb = tmp_path / f"Copy of {a.id}.ipynb"
    nb.write_text(student_notebook(a.solution_path, assignment=a.id, bundle=where))
    python = student_venv(tmp_path / "colab")
    script = tmp_path / "driver.py"
    script.write_text(DRIVER)
    q = a.graded[0].id
    jobs = [["colab", str(nb), [f"check({q!r})"]]]
    proc = _run(python, [str(script), json.dumps(jobs)], tmp_path, PIP_NO_DEPS="1", PIP_NO_INDEX="1")
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])["colab"]
    assert report["setup_ok"], report["out"]
    assert "installing the course bundle" in report["out"]
    assert report["autograder"].startswith(str(tmp_path / "colab"))
    assert f"\N{BALLOT X} {q}: not implemented yet" in report["out"], report["out"]

"""``make student``: what students install, as a folder and a wheel, without a single answer in it.

The bundle holds the released notebooks, and a package ``dlcourse-student`` made of the course
utilities (``shared``), the ``check`` runtime (the modules ``check()`` imports, listed in
``RUNTIME``) and, as package data under ``autograder/course/``, each assignment's manifest,
public tests, snapshots and diagnoses (the mutants' outputs on the public tests and their WHY
lines, ``autograder.diagnose``). It holds no solution, hidden test, mutant, variant or reference
value, no instructor command (grading, sandbox, release) and no path of the machine it was
built on; ``verify`` proves the first by searching every file of the bundle, inside the wheel
too, for every graded cell of every master, every solution region and every hidden-test
function. The build is reproducible: sorted files, fixed zip timestamps.

Layout of ``DIR``::

    README.md                                  what to do, for Colab, VS Code and JupyterLab
    <topic>.ipynb                              the released notebooks
    dlcourse_student-<version>-py3-none-any.whl
    src/                                       the wheel's source (``pip install DIR/src`` works too)
"""

from __future__ import annotations

import ast
import base64
import hashlib
import io
import json
import shutil
import textwrap
import zipfile
from pathlib import Path

from . import __version__
from .manifest import REPO, list_topics, load_assignment
from .notebook import Cell, parse_percent
from .release import BEGIN, END, bundle_location, student_notebook

NAME = "dlcourse-student"
DIST = "dlcourse_student"
RUNTIME = ("__init__.py", "check.py", "collect.py", "diagnose.py", "guard.py", "kernels.py", "manifest.py",
           "notebook.py", "observations.py", "policy.py", "results.py", "runner.py", "seal.py", "snapshots.py",
           "testing.py")
# What the notebooks and check() import. Nothing here pins what Colab preinstalls: ranges only, and the
# kernel and widget packages (Colab's own) only in the `jupyter` extra, for a local JupyterLab.
DEPENDENCIES = ("torch>=2.4", "torchvision>=0.19", "numpy>=1.24", "scikit-learn>=1.3", "matplotlib>=3.7",
                "tqdm>=4.60", "pytest>=8", "networkx>=3", "gymnasium>=0.29")
EXTRAS = {"jupyter": ("jupyterlab>=4", "ipykernel>=6.29", "ipywidgets>=8")}
MAIN = '''"""``python -m autograder check NOTEBOOK [--question q]``: the student bundle's command line."""

from .check import main

raise SystemExit(main())
'''
ZIP_DATE = (1980, 1, 1, 0, 0, 0)


class BundleError(Exception):
    """The bundle could not be built, or it would give away an answer."""


def wheel_name() -> str:
    return f"{DIST}-{__version__}-py3-none-any.whl"


# ---------------------------------------------------------------------------- the files


def _package_files(repo: Path, topics: list[str]) -> dict[str, bytes]:
    """Path inside the wheel -> content, for the two packages and the course data."""
    files: dict[str, bytes] = {}
    engine = repo / "autograder"
    for name in RUNTIME:
        files[f"autograder/{name}"] = (engine / name).read_bytes()
    files["autograder/__main__.py"] = MAIN.encode()
    for path in sorted((repo / "shared").rglob("*")):  # by folder: code, weights, data, whatever is added later
        if path.is_file() and not _skipped(path.relative_to(repo / "shared")):
            files[path.relative_to(repo).as_posix()] = path.read_bytes()
    course = "autograder/course"
    files[f"{course}/course.toml"] = ("# The assignments of this bundle, in course order.\n"
                                      f"topics = {json.dumps(topics)}\n").encode()
    for topic in topics:
        a = load_assignment(topic, repo)
        base = f"{course}/assignments/{a.id}"
        files[f"{base}/assignment.toml"] = (a.root / "assignment.toml").read_bytes()
        if not a.snapshots_path.exists():
            raise BundleError(f"{a.id} has no snapshots.json: run `make snapshots` first")
        files[f"{base}/snapshots.json"] = a.snapshots_path.read_bytes()
        if a.diagnoses_path.exists():  # the mistakes a check can name: outputs and WHY lines, no code
            files[f"{base}/diagnoses.json"] = a.diagnoses_path.read_bytes()
        for test in sorted(a.public_tests.glob("test_*.py")):
            files[f"{base}/tests/{test.name}"] = test.read_bytes()
    _check_imports(files)
    return files


def _skipped(rel: Path) -> bool:
    """Build leftovers and hidden files: never part of a package."""
    return (any(part == "__pycache__" or part.startswith(".") for part in rel.parts)
            or rel.suffix in (".pyc", ".pyo") or rel.name.startswith("test_"))


def _check_imports(files: dict[str, bytes]) -> None:
    """Every ``from .x import`` in the bundled engine modules names a bundled module (lazy imports too)."""
    shipped = {Path(p).stem for p in files if p.startswith("autograder/") and p.count("/") == 1}
    for path, data in files.items():
        if not (path.startswith("autograder/") and path.count("/") == 1):
            continue
        for node in ast.walk(ast.parse(data)):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                names = [node.module] if node.module else [a.name for a in node.names]
                missing = [n for n in names if n.split(".")[0] not in shipped and n != "__version__"]
                if missing:
                    raise BundleError(f"{path} imports autograder.{missing[0]}, which the student bundle does not "
                                      "ship: keep the check runtime free of grading-engine modules")


def pyproject() -> str:
    deps = "".join(f'    "{d}",\n' for d in DEPENDENCIES)
    extras = "".join(f"{k} = {json.dumps(list(v))}\n" for k, v in EXTRAS.items())
    return textwrap.dedent(f'''\
        # Generated by `make student` (autograder/bundle.py); edit the course repository, not this file.
        [build-system]
        requires = ["setuptools>=68"]
        build-backend = "setuptools.build_meta"

        [project]
        name = "{NAME}"
        version = "{__version__}"
        description = "Course notebooks' runtime: check() with the public tests, and the course utilities"
        requires-python = ">=3.10"
        dependencies = [
        ''') + deps + "]\n\n[project.optional-dependencies]\n" + extras + textwrap.dedent('''
        [tool.setuptools.packages.find]
        include = ["autograder*", "shared*"]

        [tool.setuptools.package-data]
        autograder = ["course/*.toml", "course/assignments/*/*.toml", "course/assignments/*/*.json",
                      "course/assignments/*/tests/*.py"]
        shared = ["**/*"]
        ''')


def _metadata() -> str:
    lines = ["Metadata-Version: 2.1", f"Name: {NAME}", f"Version: {__version__}",
             "Summary: Course notebooks' runtime: check() with the public tests, and the course utilities",
             "Requires-Python: >=3.10"]
    lines += [f"Requires-Dist: {d}" for d in DEPENDENCIES]
    for extra, deps in EXTRAS.items():
        lines.append(f"Provides-Extra: {extra}")
        lines += [f'Requires-Dist: {d}; extra == "{extra}"' for d in deps]
    return "\n".join(lines) + "\n"


def build_wheel(files: dict[str, bytes], out: Path) -> Path:
    """A pure-Python wheel of ``files``, byte-for-byte reproducible."""
    info = f"{DIST}-{__version__}.dist-info"
    entries = dict(sorted(files.items()))
    entries[f"{info}/METADATA"] = _metadata().encode()
    entries[f"{info}/WHEEL"] = (b"Wheel-Version: 1.0\nGenerator: autograder.bundle\nRoot-Is-Purelib: true\n"
                                b"Tag: py3-none-any\n")
    entries[f"{info}/top_level.txt"] = b"autograder\nshared\n"
    record = []
    for name, data in entries.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(data)}")
    record.append(f"{info}/RECORD,,")
    entries[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries.items():
            zi = zipfile.ZipInfo(name, ZIP_DATE)
            zi.external_attr = 0o644 << 16
            zi.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(zi, data)
    out.write_bytes(buf.getvalue())
    return out


def readme(topics: list[str], bundle: str) -> str:
    wheel = wheel_name()
    notebooks = ", ".join(f"`{t}.ipynb`" for t in topics)
    return f"""# Course notebooks

This folder has the assignments ({notebooks}), the course package `{wheel}` (the course
utilities and `check()`, which runs the public tests on your code) and its source in `src/`.
Fill in the cells whose first line is `# GRADED: <question>`, keep that line and the signatures,
run `check("<question>")` after a cell, and submit the `.ipynb` file.

## Colab
1. File > Upload notebook, and pick the assignment's `.ipynb`.
2. Run the first cell: it installs the course package from `{bundle}`
   (if that is a file name, first upload `{wheel}` with the Files panel on the left).
3. Runtime > Change runtime type > GPU makes the experiments faster; the graded code runs on CPU too.

## VS Code
1. Install Python 3.10 or newer and VS Code's Python and Jupyter extensions.
2. In a terminal in this folder: `python -m venv .venv`; on a computer without an NVIDIA GPU, first
   `.venv/bin/pip install torch torchvision --index-url https://download.pytorch.org/whl/cpu` (the CPU-only
   PyTorch: a few hundred MB instead of several GB); then `.venv/bin/pip install {wheel}`
   (Windows: `.venv\\Scripts\\pip install ...`).
3. Open the `.ipynb`, pick the `.venv` interpreter as the kernel (top right), run the first cell.

## JupyterLab
1. In a terminal in this folder: `python -m venv .venv` (without an NVIDIA GPU, the CPU-only PyTorch step
   above first), then `.venv/bin/pip install "{wheel}[jupyter]"`.
2. `.venv/bin/jupyter lab`, open the `.ipynb`, run the first cell.

From a terminal, `python -m autograder check <notebook>.ipynb [--question <id>]` runs the public
tests on the saved notebook. The hidden tests run when you submit.
"""


# ---------------------------------------------------------------------------- build and verify


def build(out: str | Path, repo: Path = REPO, topics: list[str] | None = None) -> Path:
    """Write the student bundle into ``out`` (emptied first) and verify it gives nothing away."""
    out = Path(out)
    topics = topics or list_topics(repo)
    if not topics:
        raise BundleError("no assignment to bundle")
    bundle = bundle_location(repo)
    files = _package_files(repo, topics)
    if out.exists():
        shutil.rmtree(out)
    src = out / "src"
    for rel, data in files.items():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_bytes(data)
    (src / "pyproject.toml").write_text(pyproject())
    for topic in topics:
        a = load_assignment(topic, repo)
        (out / f"{a.id}.ipynb").write_text(student_notebook(a.solution_path, assignment=a.id, bundle=bundle))
    (out / "README.md").write_text(readme(topics, bundle))
    build_wheel(files, out / wheel_name())
    leaks = verify(out, repo)
    if leaks:
        raise BundleError("the student bundle would give away answers:\n  " + "\n  ".join(leaks[:20]))
    return out


def secrets(repo: Path = REPO) -> dict[str, str]:
    """What must never reach a student: label -> text (graded cells of masters, solution regions,
    hidden tests and their functions, mutants, variants)."""
    found: dict[str, str] = {}
    public = "\n".join(p.read_text() for p in sorted((repo / "assignments").glob("*/tests/*.py")))
    for topic in list_topics(repo):
        a = load_assignment(topic, repo)
        for cell in parse_percent(a.solution_path.read_text()):
            if cell.question:
                found[f"{topic}: the master's `{cell.question}` cell"] = cell.source.strip()
            for i, region in enumerate(_regions(cell)):
                found[f"{topic}: solution region {i + 1} of cell {cell.index}"] = region
        for folder in (a.hidden_tests, a.mutants_dir, a.variants_dir):
            for path in sorted(folder.glob("*.py")):
                text = path.read_text()
                found[f"{topic}: {folder.name}/{path.name}"] = text.strip()
                if folder == a.hidden_tests:
                    for node in ast.parse(text).body:
                        seg = ast.get_source_segment(text, node) or ""
                        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and seg not in public:
                            found[f"{topic}: hidden {path.name}::{node.name}"] = seg.strip()
    return {k: v for k, v in found.items() if len(v) >= 40}


def _regions(cell: Cell) -> list[str]:
    out, cur = [], None
    for line in cell.source.split("\n"):
        if BEGIN.match(line):
            cur = []
        elif END.match(line):
            if cur is not None and "\n".join(cur).strip():
                out.append(textwrap.dedent("\n".join(cur)).strip())
            cur = None
        elif cur is not None:
            cur.append(line)
    return out


def _texts(folder: Path) -> dict[str, str]:
    """Every file of the bundle as text, the wheel's members included; notebooks as their cell sources."""
    out = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder).as_posix()
        if path.suffix == ".whl":
            with zipfile.ZipFile(path) as z:
                for name in z.namelist():
                    out[f"{rel}!{name}"] = z.read(name).decode("utf-8", "replace")
            continue
        text = path.read_bytes().decode("utf-8", "replace")
        out[rel] = text
        if path.suffix == ".ipynb":
            cells = json.loads(text).get("cells", [])
            out[rel + " (cells)"] = "\n".join("".join(c.get("source", [])) for c in cells)
    return out


def _normal(text: str) -> str:
    return "\n".join(line.strip() for line in text.strip().split("\n") if line.strip())


def verify(folder: str | Path, repo: Path = REPO) -> list[str]:
    """Everything the bundle gives away (empty when nothing): secrets found in a file, forbidden files,
    this machine's paths."""
    raw = _texts(Path(folder))
    texts = {k: _normal(v) for k, v in raw.items()}
    leaks = []
    for label, secret in secrets(repo).items():
        needle = _normal(secret)
        for where, text in texts.items():
            if needle in text:
                leaks.append(f"{label} is in {where}")
    for where in texts:
        parts = set(where.replace("!", "/").split("/"))
        if parts & {"solutions", "mutants", "variants", "sandbox.py", "supervisor.py", "reference.py", "api.py"}:
            leaks.append(f"{where} is an instructor file")
    root = str(repo.resolve())
    leaks += [f"{where} names this machine's path {root}" for where, text in texts.items() if root in text]
    return leaks + graded_definitions(raw, repo)


def graded_definitions(texts: dict[str, str], repo: Path = REPO) -> list[str]:
    """Code in the bundle (``texts``: its files by path, as ``_texts`` reads them) that defines what an
    assignment grades: a module-level function or class named
    like a graded name of any assignment (released or not). A course utility must not hand students
    another assignment's answer, even written differently from its master."""
    graded = {}
    for topic in list_topics(repo):
        for q in load_assignment(topic, repo).graded:
            for name in q.names:
                graded.setdefault(name, f"{topic}'s {q.id}")
    found = []
    for where, text in texts.items():
        if not where.endswith(".py") or "/course/assignments/" in where:  # public tests call sub.<name>
            continue
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name in graded:
                found.append(f"{where} defines {node.name}, which {graded[node.name]} grades")
    return found


# ---------------------------------------------------------------------------- as students receive it


def student_venv(path: Path) -> Path:
    """A fresh venv in which the course packages come only from what is installed into it.

    Third-party packages (torch and the rest: gigabytes a fresh install would download) are seen from
    this interpreter's site-packages through a ``.pth`` line. Python adds such a folder to the path but
    does not process the ``.pth`` files inside it, so this repository's editable install stays out of
    sight. What the wheel requires is checked from its metadata instead (``requirement_gaps``).
    """
    import subprocess
    import sys
    import sysconfig

    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True, timeout=300)
    python = path / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    Path(purelib, "third_party.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python


def _imported(source: str) -> set[str]:
    """Top-level modules a file or cell imports for sure (imports inside ``try`` are optional ones)."""
    try:
        tree = ast.parse("\n".join(line for line in source.split("\n") if not line.lstrip().startswith(("%", "!"))))
    except SyntaxError:
        return set()
    optional = {id(n) for t in ast.walk(tree) if isinstance(t, ast.Try) for b in t.body for n in ast.walk(b)}
    out = set()
    for node in ast.walk(tree):
        if id(node) in optional:
            continue
        if isinstance(node, ast.Import):
            out |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.add(node.module.split(".")[0])
    return out


def requirement_gaps(folder: Path) -> list[str]:
    """Third-party modules the bundle's code and notebooks import that the wheel does not require."""
    import importlib.metadata
    import re
    import sys

    norm = lambda name: re.sub(r"[-_.]+", "-", name).lower()  # noqa: E731
    with zipfile.ZipFile(folder / wheel_name()) as z:
        meta = z.read(f"{DIST}-{__version__}.dist-info/METADATA").decode()
        sources = {f"the wheel's {n}": z.read(n).decode() for n in z.namelist() if n.endswith(".py")}
    required = {norm(re.split(r"[ ;<>=!~\[]", line.split(":", 1)[1].strip())[0])
                for line in meta.splitlines() if line.startswith("Requires-Dist:") and "extra ==" not in line}
    for nb in sorted(folder.glob("*.ipynb")):
        cells = json.loads(nb.read_text())["cells"]
        sources[nb.name] = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    provided = importlib.metadata.packages_distributions()
    ours = {"autograder", "shared", "IPython"}  # IPython: the kernel running any notebook provides it
    gaps = []
    for where, text in sources.items():
        for mod in sorted(_imported(text) - ours - set(sys.stdlib_module_names)):
            dists = provided.get(mod, [])
            if not dists:
                gaps.append(f"{where} imports {mod}, which no installed package provides")
            elif not {norm(d) for d in dists} & required:
                gaps.append(f"{where} imports {mod} (from {dists[0]}), which the wheel does not require")
    return gaps


def _kernel(folder: Path, python: Path) -> dict:
    """A Jupyter kernel spec running ``python``; returns the environment that makes it ``course-student``."""
    spec = folder / "kernels" / "course-student"
    spec.mkdir(parents=True, exist_ok=True)  # the same topic may run again from the same bundle
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "course student bundle", "language": "python"}))
    return {"JUPYTER_PATH": str(folder)}


def run_solved_notebook(bundle: Path, python: Path, topic: str, repo: Path = REPO, smoke: bool = True) -> list[str]:
    """The released ``topic`` notebook with correct code in its graded cells, run end to end in a kernel of
    ``python`` from the bundle folder (``COURSE_SMOKE=1``: the smoke size); what went wrong (empty: nothing)."""
    import os
    import subprocess
    import sys

    a = load_assignment(topic, repo)
    nb = bundle / f"{topic} (solved).ipynb"
    nb.write_text(student_notebook(a.solution_path, strip=False, assignment=a.id, bundle=wheel_name()))
    cells = json.loads(nb.read_text())
    cells["cells"].append({"cell_type": "code", "id": "cell-where", "metadata": {}, "execution_count": None,
                           "outputs": [], "source": ["import autograder, shared\n",
                                                     "print('IMPORTED FROM', autograder.__file__, shared.__file__)"]})
    cells["metadata"]["kernelspec"] = {"name": "course-student", "display_name": "course student bundle",
                                       "language": "python"}
    nb.write_text(json.dumps(cells))
    kernels = bundle.parent / f"jupyter-{topic}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "COURSE_"))}
    env.update(_kernel(kernels, python), MPLBACKEND="Agg", OMP_NUM_THREADS="1", PYTORCH_NVML_BASED_CUDA_CHECK="1",
               **({"COURSE_SMOKE": "1"} if smoke else {}))
    execute = Path(sys.executable).parent / "jupyter-execute"
    proc = subprocess.run([str(execute), nb.name, "--inplace", "--kernel_name=course-student", "--timeout=1200"],
                          cwd=bundle, env=env, capture_output=True, text=True, timeout=3600)
    problems = []
    out = json.loads(nb.read_text())
    outputs = [o for c in out["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]
    errors = [f"{o['ename']}: {o['evalue']}" for o in outputs if o.get("output_type") == "error"]
    text = "".join("".join(o.get("text", "")) for o in outputs)
    if proc.returncode or errors:
        problems.append(f"{topic}: the notebook with correct code stops with "
                        f"{errors[0] if errors else proc.stderr.strip().splitlines()[-1:]}")
    if "\N{BALLOT X}" in text:
        problems.append(f"{topic}: check() reports a failing public test for correct code")
    where = next((line for line in text.splitlines() if line.startswith("IMPORTED FROM")), "")
    if not proc.returncode and (str(repo.resolve()) in where or str(python.parent.parent) not in where):
        problems.append(f"{topic}: the course packages were not the wheel's ({where})")
    return problems


def install_alone(bundle: Path, where: Path) -> tuple[Path, Path] | str:
    """The bundle folder copied alone into ``where`` and its wheel installed, as its README says, into a
    fresh venv there: (the copy, the venv's python), or what went wrong."""
    import subprocess

    alone = where / "bundle"
    shutil.copytree(bundle, alone, ignore=shutil.ignore_patterns("src"))
    python = student_venv(where / "venv")
    before = subprocess.run([str(python), "-c", "import autograder"], cwd=alone, capture_output=True)
    if before.returncode == 0:
        return "the repository's packages are importable in a fresh venv: nothing could be proven"
    done = subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", wheel_name()],
                          cwd=alone, capture_output=True, text=True, timeout=600)
    if done.returncode:
        return f"the wheel does not install: {done.stderr.strip()[-500:]}"
    return alone, python


def verify_installed(bundle: str | Path, repo: Path = REPO, topics: list[str] | None = None, jobs: int = 2,
                     smoke: bool = True) -> list[str]:
    """The bundle as a student receives it: its folder alone (copied where no repository is), the wheel
    installed into a fresh venv, its requirements covering every import, and each notebook with correct
    code run end to end with every check() passing. Returns what went wrong (empty: nothing)."""
    import tempfile
    from concurrent.futures import ThreadPoolExecutor

    bundle = Path(bundle)
    topics = topics or [p.stem for p in sorted(bundle.glob("*.ipynb"))]
    problems = requirement_gaps(bundle)
    with tempfile.TemporaryDirectory(prefix="student-") as tmp:
        installed = install_alone(bundle, Path(tmp))
        if isinstance(installed, str):
            return [*problems, installed]
        alone, python = installed
        with ThreadPoolExecutor(max(1, jobs)) as pool:
            for found in pool.map(lambda t: run_solved_notebook(alone, python, t, repo, smoke), topics):
                problems += found
    return problems

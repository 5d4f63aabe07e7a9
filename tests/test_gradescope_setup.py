"""setup.sh of the Gradescope zip, run for real in a fresh root: its own venv, its own pip commands.

Nothing is downloaded: pip is pointed at a local wheelhouse of stand-in wheels (right names and
versions, no code), so the test checks which builds the script asks for, not PyTorch itself.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from autograder.gradescope import CPU_INDEX, TORCH, build
from autograder.manifest import load_assignment
from tests.conftest import TOY_REPO


def stub_wheel(folder: Path, name: str, version: str) -> Path:
    dist = re.sub(r"[-_.]+", "_", name)
    info = f"{dist}-{version}.dist-info"
    files = {f"{dist}_stub/__init__.py": "", f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\n"
             f"Version: {version}\n", f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
             "Tag: py3-none-any\n"}
    files[f"{info}/RECORD"] = "".join(f"{f},,\n" for f in files) + f"{info}/RECORD,,\n"
    path = folder / f"{dist}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as z:
        for f, text in files.items():
            z.writestr(f, text)
    return path


def wheelhouse(folder: Path, requirements: str, torch_version: str) -> Path:
    folder.mkdir(parents=True)
    for line in requirements.splitlines():
        m = re.match(r"([A-Za-z0-9_.\-]+)\s*(?:==|>=)\s*([0-9.]+)", line)
        if m and m.group(1) != "torch":
            stub_wheel(folder, m.group(1), m.group(2))
    stub_wheel(folder, "torch", torch_version)
    return folder


def run_setup(zip_path: Path, tmp: Path, torch_version: str) -> dict[str, str]:
    root = tmp / "autograder"
    with zipfile.ZipFile(zip_path) as z:
        z.extractall(root / "source")
    house = wheelhouse(tmp / "wheels", (root / "source" / "requirements.txt").read_text(), torch_version)
    base = getattr(sys, "_base_executable", sys.executable)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "VIRTUAL_ENV", "PYTHON"))}
    # SKIP_PREPARE: the stand-in wheels cannot compute reference observations (test_gradescope runs that step)
    env.update({"AUTOGRADER_ROOT": str(root), "SKIP_APT": "1", "SKIP_PREPARE": "1", "PYTHON": base, "PIP_NO_INDEX": "1",
                "PIP_FIND_LINKS": str(house), "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_CACHE_DIR": "1"})
    proc = subprocess.run(["bash", str(root / "source" / "setup.sh")], env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    listed = subprocess.run([str(root / "venv" / "bin" / "python"), "-m", "pip", "list", "--format", "json"],
                            capture_output=True, text=True, env=env, check=True).stdout
    return {p["name"].lower(): p["version"] for p in json.loads(listed)}


@pytest.mark.skipif(shutil.which("bash") is None or importlib.util.find_spec("ensurepip") is None,
                    reason="setup.sh needs bash and a Python that can build a venv with pip")
def test_setup_installs_cpu_only_torch_in_a_fresh_venv(tmp_path):
    a = load_assignment("optimizers")
    path = build(a, tmp_path / "optimizers.zip")
    script = zipfile.ZipFile(path).read("setup.sh").decode()
    assert f"--index-url {CPU_INDEX}" in script and f"{TORCH}+cpu" in script
    assert "-m autograder gradescope-prepare optimizers" in script
    installed = run_setup(path, tmp_path, TORCH.split("==")[1] + "+cpu")
    assert installed["torch"] == TORCH.split("==")[1] + "+cpu"
    assert {"numpy", "matplotlib", "pyyaml", "tqdm", "pytest", "scikit-learn"} <= set(installed)
    assert not any(n.startswith("nvidia") for n in installed)


def test_setup_installs_cuda_torch_when_asked(tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(TOY_REPO, repo)
    manifest = repo / "assignments" / "toy" / "assignment.toml"
    manifest.write_text(manifest.read_text() + "\n[gradescope]\ncuda = true\n")
    a = load_assignment(manifest, repo=repo)
    script = zipfile.ZipFile(build(a, tmp_path / "toy.zip")).read("setup.sh").decode()
    assert CPU_INDEX not in script and f'"{TORCH}"' in script and "+cpu" not in script

"""The grader run by an unprivileged user (a student's laptop, a locked-down container).

No namespace, capability or uid switch is available then: what still stands between graded code
and the grade is the forked child, the audit guard, the strict channel and the per-run seeds.
In-process attacks must score nothing there too. Runs where the user ``nobody`` can run this
Python and read the repository (as root, with Python installed where others can read it).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
IN_PROCESS_ATTACKS = ["forge_via_heapq_merge", "forge_via_stack_summary", "forge_via_signal_frame",
                      "forge_via_sourceless_pyc", "patch_pytest_raises", "replay_public_seed", "huge_result"]
SCRIPT = """
import json, sys
from pathlib import Path
sys.path.insert(0, {tests!r})
from conftest import TOY_REPO
from autograder.api import grade, mutant_submission
from autograder.manifest import load_assignment
toy = load_assignment(TOY_REPO / "assignments" / "toy" / "assignment.toml", repo=TOY_REPO.resolve())
out = {{}}
for name in {attacks!r}:
    attack = Path({tests!r}) / "adversarial" / (name + ".py")
    text = attack.read_text()
    for key in ("port", "canary", "repo", "cache", "marker", "results_dir", "class_dir", "out_dir"):
        text = text.replace("{{" + key + "}}", "/nonexistent")
    _, sub = mutant_submission(toy, attack, text)
    r = grade(toy, sub, label=name)
    out[name] = {{"add": r.questions["add"][0], "scale": r.questions["scale"][0], "notes": r.sandbox}}
print(json.dumps(out))
"""


def _why_not() -> str | None:
    if os.geteuid() != 0:
        return "the tests do not run as root, so they cannot become an unprivileged user"
    probe = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c",
                            f"import sys; sys.path.insert(0, {str(REPO)!r}); import torch, autograder.api"],
                           capture_output=True, text=True, timeout=120)
    if probe.returncode != 0:
        return "the user nobody cannot run this Python or read the repository here: " + probe.stderr[-200:]
    return None


def test_in_process_attacks_score_nothing_for_an_unprivileged_grader():
    why = _why_not()
    if why:
        pytest.skip(why)
    import shutil
    import tempfile

    tmp_path = Path(tempfile.mkdtemp(prefix="unprivileged-"))  # pytest's own folders are root's alone
    os.chmod(tmp_path, 0o777)
    try:
        _run_as_nobody(tmp_path)
    finally:
        shutil.rmtree(tmp_path, ignore_errors=True)


def _run_as_nobody(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(REPO),
           "AUTOGRADER_CACHE": str(tmp_path / "cache")}
    script = SCRIPT.format(tests=str(REPO / "tests"), attacks=IN_PROCESS_ATTACKS)
    out = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c", script],
                         capture_output=True, text=True, timeout=1200, cwd=tmp_path, env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    results = json.loads(out.stdout.strip().splitlines()[-1])
    for name, r in results.items():
        assert r["add"] == 0.0 and r["scale"] == 3.0, (name, r)
        assert any("files not confined" in n for n in r["notes"]), "the degradation is said"

"""The adversarial corpus (tests/adversarial/): submissions written to attack the grader.

Each attack replaces the `add` cell of the toy assignment's reference. Whatever it does, it
must score nothing on `add`, leave `scale` at full marks, finish within the time limits and
leave the machine as it found it (no deleted files, no stray processes, no network traffic).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import pytest

from autograder.api import grade, mutant_submission
from autograder.confine import ProcessCage
from autograder.reference import cache_dir
from autograder.sandbox import Limits

pytestmark = pytest.mark.xdist_group("attacks")  # one worker: the leftover-process check sees no other test's
ATTACKS = sorted((Path(__file__).parent / "adversarial").glob("*.py"))
MARKER = "3141.59"  # `sleep 3141.59`: how the background-process attack's leftovers are found


class AnswerServer:
    """A loopback server that hands out the right answer: reaching it would be cheating."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            conn.sendall(b"def add(a, b):\n    return a + b\n")
            conn.close()


@pytest.fixture(scope="module")
def server():
    s = AnswerServer()
    yield s
    s.sock.close()


def _leftover_processes() -> list[int]:
    found = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if MARKER.encode() in (d / "cmdline").read_bytes():
                    found.append(int(d.name))
            except OSError:
                pass
    return found


@pytest.mark.parametrize("attack", ATTACKS, ids=[p.stem for p in ATTACKS])
def test_attack_scores_nothing_and_harms_nothing(toy, attack, server, tmp_path):
    if attack.stem == "fork_bomb" and os.geteuid() == 0 and ProcessCage(8).path is None:
        pytest.skip("root without a pids cgroup: nothing bounds a fork bomb here, so it is not run")
    _attack_fails_harmlessly(toy, attack, server, tmp_path)


UID0_ATTACKS = ["host_state_writes", "escape_mounts_as_root", "read_host_files", "read_solutions",
                "read_solutions_via_proc", "delete_files", "background_process", "network",
                "forge_via_proc_mem_spelling", "forbid_vf_kernel", "forbid_kernel_switch_off"]


@pytest.mark.skipif(os.geteuid() != 0, reason="the uid-0 fallback exists only where the grader runs as root")
@pytest.mark.parametrize("name", UID0_ATTACKS)
def test_attack_fails_in_the_uid0_fallback_child(toy, name, server, tmp_path):
    """Where ``nobody`` cannot read Python or the course (a venv under a 0700 home, a checkout made with
    umask 077), the child keeps uid 0 without capabilities: /proc/sys, /sys, the hostname and the cgroup
    files must still be out of its reach, and every attack that fails as ``nobody`` fails there too."""
    _attack_fails_harmlessly(toy, Path(__file__).parent / "adversarial" / f"{name}.py", server, tmp_path,
                             Limits(drop_user=False))


def _attack_fails_harmlessly(toy, attack, server, tmp_path, limits=None):
    canary = tmp_path / "canary.txt"
    canary.write_text("still here")
    results_dir = tmp_path / "results"
    params = {"port": server.port, "canary": canary, "repo": toy.repo, "cache": cache_dir(),
              "marker": MARKER, "results_dir": results_dir, "class_dir": tmp_path / "class",
              "out_dir": tmp_path / "out"}
    text = attack.read_text()
    for key, value in params.items():
        text = text.replace("{" + key + "}", str(value))
    target, sub = mutant_submission(toy, attack, text)
    hostname = socket.gethostname()
    t0 = time.monotonic()
    r = grade(toy, sub, label=attack.name, limits=limits)
    seconds = time.monotonic() - t0
    assert limits is None or not r.errors, r.errors  # the fallback grades (its host state is out of reach)
    assert target == "add"
    assert r.questions["add"][0] == 0.0, r.table()
    assert r.questions["scale"] == (3.0, 3.0), r.table()
    assert seconds < 60
    assert canary.read_text() == "still here" and (toy.repo / "assignments").is_dir()
    assert not (results_dir / "results.json").exists()
    assert server.connections == 0
    assert socket.gethostname() == hostname
    assert not [p for p in Path("/dev/shm").iterdir() if p.name.startswith(MARKER)], "files left in the host's /dev/shm"
    time.sleep(0.2)
    assert not _leftover_processes(), "a process started by the submission outlived its grading"


def test_grader_is_unharmed_after_the_corpus(toy, toy_notebook):
    """After every attack, an honest submission still gets full marks."""
    assert grade(toy, toy_notebook()).score == 5.0


BATCH_ATTACKS = ["read_classmates", "read_host_files", "forge_via_heapq_merge", "fill_disk", "escape_mounts_as_root",
                 "patch_pytest_raises", "huge_result"]


def test_attacks_in_a_batch_leave_honest_classmates_alone(toy, server, tmp_path):
    """A class where honest students sit beside attackers: the attackers score nothing on add, the
    honest students keep full marks, the gradebook and grades.csv are the grader's own, and the
    forging attacker is flagged for the instructor (never in what a student reads)."""
    import csv
    import json

    from autograder.batch import Gradebook, grade_folder
    from tests.conftest import TOY_OK, write_notebook

    folder, out = tmp_path / "class", tmp_path / "out"
    folder.mkdir()
    params = {"port": server.port, "canary": tmp_path / "canary", "repo": toy.repo, "cache": cache_dir(),
              "marker": MARKER, "results_dir": tmp_path / "results", "class_dir": folder, "out_dir": out}
    for i in range(3):
        write_notebook(folder / f"honest{i}.ipynb", [("code", "import torch"), ("code", TOY_OK["add"]),
                                                      ("code", TOY_OK["scale"])])
    for name in BATCH_ATTACKS:
        text = (Path(__file__).parent / "adversarial" / f"{name}.py").read_text()
        for key, value in params.items():
            text = text.replace("{" + key + "}", str(value))
        _, sub = mutant_submission(toy, Path(name), text)
        cells = [("code", c.source) for c in [*sub.imports, *sub.graded.values()]]
        write_notebook(folder / f"attacker_{name}.ipynb", cells)
    grade_folder(toy, folder, out, jobs=2, progress=False)
    rows = {r["student"]: r for r in Gradebook(out / "gradebook.sqlite").rows("toy")}
    for i in range(3):
        assert rows[f"honest{i}"]["score"] == 5.0, rows[f"honest{i}"]
    for name in BATCH_ATTACKS:
        row = rows[f"attacker_{name}"]
        assert row["questions"]["add"]["score"] == 0.0, (name, row["questions"])
        assert row["questions"]["scale"]["score"] == 3.0, (name, row["questions"])
    assert rows["attacker_forge_via_heapq_merge"]["flags"], "the forging attempt is flagged"
    student_view = json.dumps(json.loads((out / "attacker_forge_via_heapq_merge" / "results.json").read_text()))
    assert "flag" not in student_view and "channel" not in student_view
    with open(out / "grades.csv") as f:
        grades = {r["student"]: r for r in csv.DictReader(f)}
    assert float(grades["honest0"]["total"]) == 5.0
    assert not [p for p in Path("/dev/shm").iterdir() if p.name.startswith(MARKER)]

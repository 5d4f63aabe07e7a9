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
    canary = tmp_path / "canary.txt"
    canary.write_text("still here")
    results_dir = tmp_path / "results"
    params = {"port": server.port, "canary": canary, "repo": toy.repo, "cache": cache_dir(),
              "marker": MARKER, "results_dir": results_dir}
    text = attack.read_text()
    for key, value in params.items():
        text = text.replace("{" + key + "}", str(value))
    target, sub = mutant_submission(toy, attack, text)
    t0 = time.monotonic()
    r = grade(toy, sub, label=attack.name)
    seconds = time.monotonic() - t0
    assert target == "add"
    assert r.questions["add"][0] == 0.0, r.table()
    assert r.questions["scale"] == (3.0, 3.0), r.table()
    assert seconds < 60
    assert canary.read_text() == "still here" and (toy.repo / "assignments").is_dir()
    assert not (results_dir / "results.json").exists()
    assert server.connections == 0
    assert not [p for p in Path("/dev/shm").iterdir() if p.name.startswith(MARKER)], "files left in the host's /dev/shm"
    time.sleep(0.2)
    assert not _leftover_processes(), "a process started by the submission outlived its grading"


def test_grader_is_unharmed_after_the_corpus(toy, toy_notebook):
    """After every attack, an honest submission still gets full marks."""
    assert grade(toy, toy_notebook()).score == 5.0

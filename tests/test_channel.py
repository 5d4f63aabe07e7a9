"""The result channel between a grading child and the grader (supervisor._watch).

A child that runs student code can write anything into its pipe. The grader accepts only the
runner's events (they carry a per-child secret), only in the order the runner sends them, with
every field bounded, reading in linear time; anything else stops the child and flags the question.
"""

from __future__ import annotations

import json
import os

import pytest

from autograder.collect import Case
from autograder.supervisor import MAX_FIELD, MAX_LINE, Lines, RunReport, _watch

NONCE = "s3cret"
CASES = [Case(id=f"public/t.py::test_{i}", question="add", name=f"add: test {i}", func=print) for i in range(2)]


def run_child(events: list) -> tuple[object, RunReport, list[Case]]:
    """Fork a fake child that writes ``events`` (dicts get the secret, bytes go as they are)."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        for ev in events:
            data = ev if isinstance(ev, bytes) else (json.dumps({**ev, "k": NONCE}) + "\n").encode()
            while data:
                data = data[os.write(write_fd, data):]
        os._exit(0)
    os.close(write_fd)
    report, remaining = RunReport(), list(CASES)
    try:
        blame = _watch(pid, read_fd, NONCE, remaining, report, {}, {"add": 30.0}, "add")
    finally:
        os.close(read_fd)
        os.waitpid(pid, 0)
    return blame, report, remaining


def end(i: int, **extra) -> dict:
    return {"ev": "end", "id": CASES[i].id, "status": "passed", "message": "", "obs": [], "seconds": 0.0, **extra}


def start(i: int) -> dict:
    return {"ev": "start", "id": CASES[i].id}


HONEST = [{"ev": "hello", "notes": []}, {"ev": "cell", "q": "add"}, {"ev": "built", "errors": {}},
          start(0), end(0), start(1), end(1), {"ev": "done"}]


def test_the_runners_order_is_accepted():
    blame, report, remaining = run_child(HONEST)
    assert blame is None and not remaining and not report.flags
    assert set(report.outcomes) == {c.id for c in CASES}


@pytest.mark.parametrize("events", [
    HONEST[:3] + [end(0)],  # a test that never started
    HONEST[:3] + [start(1)],  # not the next test
    HONEST[:4] + [start(1)],  # a start while a test runs
    HONEST[:5] + [{"ev": "done"}],  # done with a test left
    HONEST[:5] + [{"ev": "hello", "notes": []}],  # a second hello
    HONEST[:4] + [end(1)],  # the end of another test
], ids=["end_without_start", "start_out_of_order", "start_during_test", "early_done", "second_hello", "wrong_end"])
def test_an_event_out_of_order_stops_the_child_and_flags_the_question(events):
    blame, report, _ = run_child(events + [{"ev": "done"}])
    assert blame is not None
    assert any("channel anomaly" in f for f in report.flags["add"]), report.flags
    assert CASES[1].id not in report.outcomes or report.outcomes[CASES[1].id]["status"] != "passed"


def test_lines_without_the_secret_are_ignored_and_flagged():
    junk = [b"not json\n", b'{"ev": "end", "id": "public/t.py::test_0", "status": "passed"}\n']
    blame, report, _ = run_child(HONEST[:4] + junk + HONEST[4:])
    assert blame is None
    assert report.flags["add"] == ["data on the result channel that the runner did not write"]


def test_fields_are_bounded():
    name = "n" * 2_000_000
    big = end(0, message="m" * 100_000, obs=[{"name": name, "value": 1, "rtol": None, "atol": None}] * 3)
    blame, report, _ = run_child(HONEST[:4] + [big] + HONEST[5:])
    assert blame is None
    outcome = report.outcomes[CASES[0].id]
    assert len(outcome["message"]) <= MAX_FIELD + 10
    assert all(len(o["name"]) <= 210 for o in outcome["obs"])


def test_an_overlong_line_is_dropped_whole():
    lines = Lines()
    chunk = b"x" * (1 << 20)
    out = []
    for _ in range(MAX_LINE // len(chunk) + 3):
        out += lines.feed(chunk)
    out += lines.feed(b"tail\nnext line\nrest")
    assert out == [b"next line"] and lines.overlong == 1
    assert lines.feed(b" of it\n") == [b"rest of it"]


def test_deeply_nested_json_does_not_crash_the_grader():
    bomb = b"[" * 200_000 + b"]" * 200_000 + b"\n"
    blame, report, _ = run_child(HONEST[:4] + [bomb] + HONEST[4:])
    assert blame is None and report.flags["add"]

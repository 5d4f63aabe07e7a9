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
MUL = [Case(id=f"public/t.py::test_mul_{i}", question="mul", name=f"mul: test {i}", func=print) for i in range(2)]


def run_child(events: list, cases: list[Case] = CASES) -> tuple[object, RunReport, list[Case]]:
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
    report, remaining = RunReport(), list(cases)
    try:
        blame = _watch(pid, read_fd, NONCE, remaining, report, {}, {"add": 30.0, "mul": 30.0})
    finally:
        os.close(read_fd)
        os.waitpid(pid, 0)
    return blame, report, remaining


def end(i: int, cases: list[Case] = CASES, **extra) -> dict:
    return {"ev": "end", "id": cases[i].id, "status": "passed", "message": "", "obs": [], "seconds": 0.0, **extra}


def start(i: int, cases: list[Case] = CASES) -> dict:
    return {"ev": "start", "id": cases[i].id}


def begin(q: str = "add") -> dict:
    return {"ev": "begin", "q": q}


def reaped(q: str = "add", status: int = 0) -> dict:
    return {"ev": "reaped", "q": q, "status": status}


HONEST = [{"ev": "hello", "notes": []}, {"ev": "cell", "q": "add"}, {"ev": "built", "errors": {}},
          begin(), start(0), end(0), start(1), end(1), reaped(), {"ev": "done"}]


def test_the_runners_order_is_accepted():
    blame, report, remaining = run_child(HONEST)
    assert blame is None and not remaining and not report.flags
    assert set(report.outcomes) == {c.id for c in CASES}


@pytest.mark.parametrize("events", [
    HONEST[:4] + [end(0)],  # a test that never started
    HONEST[:4] + [start(1)],  # not the next test
    HONEST[:5] + [start(1)],  # a start while a test runs
    HONEST[:6] + [{"ev": "done"}],  # done with a test left
    HONEST[:6] + [{"ev": "hello", "notes": []}],  # a second hello
    HONEST[:5] + [end(1)],  # the end of another test
    HONEST[:3] + [start(0)],  # a test before its question's process began
    HONEST[:3] + [begin("mul")],  # a question that is not next
    HONEST[:4] + [begin()],  # a second begin
    HONEST[:3] + [reaped()],  # reaped before it began
], ids=["end_without_start", "start_out_of_order", "start_during_test", "early_done", "second_hello", "wrong_end",
        "start_before_begin", "begin_other_question", "second_begin", "reaped_before_begin"])
def test_an_event_out_of_order_stops_the_child_and_flags_the_question(events):
    blame, report, _ = run_child(events + [{"ev": "done"}])
    assert blame is not None
    assert any("channel anomaly" in f for f in report.flags["add"]), report.flags
    assert CASES[1].id not in report.outcomes or report.outcomes[CASES[1].id]["status"] != "passed"


def test_two_questions_each_in_its_own_process():
    both = [*HONEST[:3], begin(), start(0), end(0), start(1), end(1), reaped(),
            begin("mul"), start(0, MUL), end(0, MUL, flags=["mul's flag"]), start(1, MUL), end(1, MUL), reaped("mul"),
            {"ev": "done"}]
    blame, report, remaining = run_child(both, CASES + MUL)
    assert blame is None and not remaining
    assert set(report.outcomes) == {c.id for c in CASES + MUL}
    assert report.flags == {"mul": ["mul's flag"]}  # a test's flag is its question's
    assert [q for q, *_ in report._marks["questions"]] == ["add", "mul"]


@pytest.mark.parametrize("at", [5, 6], ids=["during_a_test", "between_tests"])
def test_a_question_process_reaped_early_is_blamed_with_its_own_status(at):
    """Its process died (status: killed by SIGSEGV) while a test ran, or between two tests: the test, or the
    question, is blamed with how that process ended, not how the child that forked it was stopped."""
    blame, report, remaining = run_child(HONEST[:at] + [reaped(status=11)], CASES + MUL)
    kind, item, why = blame
    assert why is None and report._marks["lost"] == 11
    assert (kind, item) == (("test", CASES[0].id) if at == 5 else ("idle", "add"))
    assert [c.question for c in remaining].count("mul") == 2


def test_lines_without_the_secret_are_ignored_and_flagged():
    junk = [b"not json\n", b'{"ev": "end", "id": "public/t.py::test_0", "status": "passed"}\n']
    blame, report, _ = run_child(HONEST[:5] + junk + HONEST[5:])
    assert blame is None
    assert report.flags["add"] == ["data on the result channel that the runner did not write"]


def test_fields_are_bounded():
    name = "n" * 2_000_000
    big = end(0, message="m" * 100_000, obs=[{"name": name, "value": 1, "rtol": None, "atol": None}] * 3)
    blame, report, _ = run_child(HONEST[:5] + [big] + HONEST[6:])
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
    blame, report, _ = run_child(HONEST[:5] + [bomb] + HONEST[5:])
    assert blame is None and report.flags["add"]

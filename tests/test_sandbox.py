"""The child's identity and what it can change on the host (autograder.sandbox), seen from graded code.

A probe submission reports what it sees as the `add` test's failure message; `scale` stays correct.
"""

from __future__ import annotations

import ast
import os
import socket

import pytest

import autograder.sandbox as sandbox
from autograder.api import grade
from autograder.sandbox import Limits

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the grader switches users and isolates only as root")

PROBE = '''# GRADED: add
import os, socket
SEEN = {"uid": os.getuid(), "euid": os.geteuid(), "hostname": socket.gethostname(), "writable": []}
for path in ("/proc/sys/kernel/core_pattern", "/proc/sys/kernel/hostname", "/proc/sysrq-trigger",
             "/sys/kernel/uevent_helper", "/sys/fs/cgroup/cgroup.procs", "/proc/sys/vm/drop_caches"):
    try:
        with open(path, "a"):
            SEEN["writable"].append(path)
    except OSError:
        pass
import shared
SEEN["course_readable"] = bool(open(shared.__file__).read())
def add(a, b):
    raise AssertionError("SEEN=" + repr(SEEN))
'''


def seen(toy, toy_notebook, limits: Limits) -> dict:
    r = grade(toy, toy_notebook(add=PROBE), limits=limits)
    assert not r.errors, r.errors
    assert r.questions["scale"] == (3.0, 3.0), r.table()
    message = next(t.message for t in r.tests if t.case.question == "add" and "SEEN=" in t.message)
    return ast.literal_eval(message.split("SEEN=", 1)[1].split("} ", 1)[0] + "}")


def test_the_child_is_nobody_with_its_own_hostname_and_no_host_state(toy, toy_notebook):
    """As root the child is nobody, even where Python or the course sits in a private (0700) folder
    (then it is bound in through an idmapped mount); it has its own hostname and cannot open any host
    state for writing."""
    probe = seen(toy, toy_notebook, Limits())
    assert probe["uid"] == probe["euid"] == sandbox.NOBODY
    assert probe["course_readable"]
    assert probe["hostname"] == "grader" != socket.gethostname()
    assert probe["writable"] == []


def test_the_uid0_fallback_child_cannot_reach_host_state(toy, toy_notebook):
    """Without the switch to nobody (the fallback where nobody cannot read the course), the child stays
    uid 0 without capabilities: /proc/sys, the sysrq trigger, /sys and the cgroup files are read-only
    there, since a sysctl such as kernel.core_pattern needs uid 0, not a capability."""
    probe = seen(toy, toy_notebook, Limits(drop_user=False))
    assert probe["uid"] == 0
    assert probe["writable"] == []
    assert probe["hostname"] == "grader"


def test_a_uid0_child_that_could_change_the_host_is_refused(toy, toy_notebook, monkeypatch):
    """Where the child would keep uid 0 and its /proc/sys or /sys could not be made read-only, grading
    stops with a reason (nothing is graded), unless the instructor allowed it (--allow-root-child)."""
    monkeypatch.setattr(sandbox, "host_state_exposed", lambda: "/proc/sys is writable")
    r = grade(toy, toy_notebook(), limits=Limits(drop_user=False))
    assert r.score == 0 and r.errors and "refuses" in r.errors[0] and "--allow-root-child" in r.errors[0]
    assert "/work" not in r.errors[0] and "Traceback" not in r.errors[0]
    allowed = grade(toy, toy_notebook(), limits=Limits(drop_user=False, allow_root_child=True))
    assert allowed.score == 5.0 and not allowed.errors
    assert any("allowed by --allow-root-child" in note for note in allowed.sandbox)


def test_the_nobody_child_is_never_refused(toy, toy_notebook, monkeypatch):
    """The refusal concerns uid 0 alone: nobody cannot write a sysctl even where /proc/sys is writable."""
    monkeypatch.setattr(sandbox, "host_state_exposed", lambda: "/proc/sys is writable")
    assert grade(toy, toy_notebook(), limits=Limits()).score == 5.0

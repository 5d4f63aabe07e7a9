"""The child's allow-list root (autograder.confine.build_root), built in a forked process."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from autograder.confine import build_root
from autograder.sandbox import student_view


def in_new_root(tmp_path, allowed: tuple[str, ...], probe, covered: tuple[str, ...] = ()) -> dict:
    """Fork; the child builds its root on an empty folder under ``tmp_path``, runs ``probe()`` there
    and sends back what it returned (or why the root could not be built)."""
    base = tmp_path / "root"
    base.mkdir()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            why = build_root(str(base), (*student_view(), *allowed), disk_mb=8, uid=os.geteuid(), covered=covered)
        except OSError as e:
            why = str(e)
        try:
            out = {"why": why} if why else {"probe": probe()}
        except BaseException as e:  # noqa: BLE001 - reported to the parent
            out = {"error": f"{type(e).__name__}: {e}"}
        os.write(write, json.dumps(out).encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    with os.fdopen(read) as f:
        out = json.loads(f.read() or '{"why": "the child said nothing"}')
    if "why" in out:
        pytest.skip(f"no private root here: {out['why']}")
    assert "error" not in out, out["error"]
    return out["probe"]


def test_an_allowed_folder_under_tmp_stays_visible(tmp_path):
    """A course checked out under /tmp (a fresh clone in CI, a pytest folder) is bound inside the
    child's scratch /tmp, not hidden by it; what is not allowed there stays out of sight."""
    checkout = Path(tempfile.mkdtemp(prefix="course-", dir="/tmp"))
    course, secret = checkout / "shared", checkout / "solutions"
    course.mkdir()
    secret.mkdir()
    (course / "weights.pt").write_text("w")
    (secret / "answers.py").write_text("a")

    def probe():
        written = open("/tmp/mine.txt", "w").write("x") == 1
        return {"allowed": open(course / "weights.pt").read(), "secret": os.path.exists(secret / "answers.py"),
                "tmp_writable": written, "read_only": not os.access(str(course / "weights.pt"), os.W_OK)}

    try:
        seen = in_new_root(tmp_path, (str(course),), probe)
    finally:
        shutil.rmtree(checkout)
    assert seen == {"allowed": "w", "secret": False, "tmp_writable": True, "read_only": True}


def test_a_bound_engine_folder_shows_its_modules_and_covers_the_rest(tmp_path):
    """The engine's folder is bound whole; its topic folders and any file that is not a module are covered
    (``sandbox.engine_folders``), as the engine of a course installed into site-packages always was."""
    checkout = Path(tempfile.mkdtemp(prefix="course-", dir="/tmp"))
    engine = checkout / "autograder"
    (engine / "optimizers" / "tests").mkdir(parents=True)
    (engine / "runner.py").write_text("R = 1\n")
    (engine / "optimizers" / "tests" / "test_hidden.py").write_text("SECRET = 1\n")
    (engine / "answers.json").write_text('{"secret": 1}')

    def probe():
        try:
            data = open(engine / "answers.json").read()
        except OSError:
            data = "unreadable"
        return {"module": open(engine / "runner.py").read(),
                "hidden": os.path.exists(engine / "optimizers" / "tests" / "test_hidden.py"),
                "topics": os.listdir(engine / "optimizers"), "data": data}

    try:
        seen = in_new_root(tmp_path, (str(engine),), probe,
                           covered=(str(engine / "optimizers"), str(engine / "answers.json")))
    finally:
        shutil.rmtree(checkout)
    assert seen["module"] == "R = 1\n" and not seen["hidden"] and seen["topics"] == []
    assert seen["data"] in ("", "unreadable")  # /dev/null over it, on a mount without devices

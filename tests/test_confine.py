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


def in_new_root(tmp_path, allowed: tuple[str, ...], probe) -> dict:
    """Fork; the child builds its root on an empty folder under ``tmp_path``, runs ``probe()`` there
    and sends back what it returned (or why the root could not be built)."""
    base = tmp_path / "root"
    base.mkdir()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            why = build_root(str(base), (*student_view(), *allowed), disk_mb=8, uid=os.geteuid())
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

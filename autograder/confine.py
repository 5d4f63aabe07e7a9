"""Kernel mechanisms behind the sandbox, each degrading to a reason string where unavailable.

- ``unshare``: new network / mount namespaces (root or CAP_SYS_ADMIN);
- ``confine_filesystem``: in a private mount namespace, hide the instructor's secrets under empty
  tmpfs mounts and make every other mount read-only but the scratch directory, so a submission
  can neither read the solutions nor delete or forge files elsewhere, even when it runs as root;
- ``enter_pid_namespace``: continue as the init of a new PID namespace with its own /proc, so
  no other process (the grader, other students' children) can be seen, signalled or entered
  through ``/proc/<pid>/root``, ``/mem`` or ``/environ``;
- ``ProcessCage``: a cgroup (v2, or v1's pids controller) that caps how many processes a
  submission may start and lets the grader kill every one of them afterwards, including those
  that left the process group with ``setsid``.
"""

from __future__ import annotations

import ctypes
import os
import signal
import time
import uuid
from pathlib import Path

CLONE_NEWNET = 0x40000000
CLONE_NEWNS = 0x00020000
CLONE_NEWPID = 0x20000000
PR_SET_PDEATHSIG = 1
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 0x4000, 0x40000
KEEP_WRITABLE = ("/proc", "/sys", "/dev")


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def _errno() -> str:
    return os.strerror(ctypes.get_errno())


def unshare(flags: int) -> str | None:
    """Enter new namespaces (``unshare(2)``); None on success, else why not."""
    try:
        if _libc().unshare(flags) != 0:
            return _errno()
    except (OSError, AttributeError) as e:
        return str(e)
    return None


def _mount(source: bytes | None, target: str, fstype: bytes | None, flags: int, data: bytes | None) -> str | None:
    if _libc().mount(source, os.fsencode(target), fstype, flags, data) != 0:
        return f"{target}: {_errno()}"
    return None


def _mount_points() -> list[str]:
    points = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        fields = line.split()
        points.append(fields[4].encode().decode("unicode_escape"))
    return points


def confine_filesystem(hide: tuple[str, ...], scratch: Path) -> str | None:
    """Hide ``hide`` and make everything but ``scratch`` read-only, in a new mount namespace."""
    why = unshare(CLONE_NEWNS)
    if why:
        return why
    why = _mount(b"none", "/", None, MS_REC | MS_PRIVATE, None)  # nothing we do leaks to the host
    if why:
        return why
    for p in hide:
        if os.path.isdir(p):
            why = _mount(b"tmpfs", p, b"tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, b"size=4k,mode=000")
            if why:
                return why
    scratch_s = str(scratch)
    why = _mount(os.fsencode(scratch_s), scratch_s, None, MS_BIND, None)
    if why:
        return why
    for point in _mount_points():
        if point == scratch_s or point in hide or any(point == k or point.startswith(k + "/") for k in KEEP_WRITABLE):
            continue
        _mount(None, point, None, MS_BIND | MS_REMOUNT | MS_RDONLY, None)  # best effort per mount
    return None


def enter_pid_namespace() -> str | None:
    """Continue in a new PID namespace, as its init, with a /proc that shows only that namespace.

    Call it inside a private mount namespace (the new /proc must not reach the host).
    ``unshare(CLONE_NEWPID)`` moves only the caller's future children, so this forks: the
    caller stays behind as a waiter that leaves with the new process's status (the same signal
    or exit code, for the grader's report); the new process returns None. Killing the waiter
    kills the new process (parent-death signal); when the new process, the namespace's init,
    ends, the kernel kills everything still in the namespace.
    """
    why = unshare(CLONE_NEWPID)
    if why:
        return why
    pid = os.fork()
    if pid == 0:  # getppid() is 0 from here: the waiter is outside the namespace
        _libc().prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        why = _mount(b"proc", "/proc", b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None)
        return None if why is None else f"a private /proc could not be mounted ({why})"
    os.closerange(0, 65536)  # the result channel, output.log: the new process owns them now
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            break
        except InterruptedError:
            continue
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        signal.signal(sig, signal.SIG_DFL)
        os.kill(os.getpid(), sig)
    os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 70)


class ProcessCage:
    """A cgroup holding one submission's processes (parent side)."""

    def __init__(self, max_pids: int):
        self.path: Path | None = None
        self.why = ""
        for root, limit_file in ((Path("/sys/fs/cgroup"), "pids.max"), (Path("/sys/fs/cgroup/pids"), "pids.max")):
            if not (root / "cgroup.procs").exists() or not (root / limit_file).parent.exists():
                continue
            if root == Path("/sys/fs/cgroup") and "pids" not in _read(root / "cgroup.controllers"):
                continue
            try:
                path = root / f"autograder-{uuid.uuid4().hex[:12]}"
                path.mkdir()
                (path / limit_file).write_text(str(max_pids))
                self.path = path
                return
            except OSError as e:
                self.why = str(e)
        self.why = self.why or "no writable cgroup with a pids controller"

    def join(self) -> None:
        """Called in the child: move this process into the cage."""
        if self.path is not None:
            (self.path / "cgroup.procs").write_text(str(os.getpid()))

    def kill_all(self, timeout: float = 5.0) -> None:
        """SIGKILL every process in the cage, then remove it."""
        if self.path is None:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pids = [int(p) for p in _read(self.path / "cgroup.procs").split()]
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.01)
        try:
            self.path.rmdir()
        except OSError:
            pass


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""

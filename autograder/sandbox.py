"""The trust boundary, applied in the forked child before any student code runs.

What is applied where it can be, and reported (never silently skipped) where it cannot:
a new session (so the whole process group can be killed), stdout/stderr to a capped file,
a clean environment, a scratch working directory, rlimits (memory, CPU, file size, core,
processes), a new empty network namespace (needs root or CAP_SYS_ADMIN) and the unprivileged
user ``nobody`` when the grader is root.
"""

from __future__ import annotations

import functools
import os
import resource
import signal
from dataclasses import dataclass
from pathlib import Path

from .confine import CLONE_NEWNET, confine_filesystem, enter_pid_namespace, unshare

NOBODY = 65534


@dataclass(frozen=True)
class Limits:
    memory_mb: int = 2048  # on top of what the forked child already maps
    cpu_seconds: int = 600
    file_mb: int = 32
    processes: int = 64
    network: bool = False
    drop_user: bool = True
    hide: tuple[str, ...] = ()  # directories the child must not see (solutions, hidden tests, cache)


def _vm_size_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    return 0


def _limit(which: int, value: int) -> None:
    soft, hard = resource.getrlimit(which)
    value = value if hard == resource.RLIM_INFINITY else min(value, hard)
    resource.setrlimit(which, (value, value))


def readable_by_others(*paths: str) -> bool:
    """Whether a user with no rights of its own can read these trees (every parent searchable)."""
    for p in paths:
        path = Path(p).resolve()
        if not path.exists() or not os.stat(path).st_mode & 0o004:
            return False
        for parent in path.parents:
            if not os.stat(parent).st_mode & 0o001:
                return False
    return True


@functools.cache
def can_drop_user() -> tuple[bool, str]:
    """Root can switch to nobody only if nobody can still import Python's standard library."""
    import sysconfig

    if os.geteuid() != 0:
        return False, "runs as the grader's own user (the grader is not root, so it cannot switch to nobody)"
    paths = [sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["purelib"]]
    if not readable_by_others(*paths):
        return False, ("runs as root: nobody cannot read this Python installation "
                       f"({paths[0]}); install Python where other users can read it to get uid isolation")
    return True, ""


def prepare_scratch(path: Path, drop_user: bool) -> None:
    """Make the scratch directory usable by the unprivileged child (parent side)."""
    path.mkdir(parents=True, exist_ok=True)
    if drop_user and can_drop_user()[0]:
        os.chown(path, NOBODY, NOBODY)
    os.chmod(path, 0o700)


def enter(scratch: Path, limits: Limits, device_type: str, keep_fd: int) -> list[str]:
    """Apply the boundary to the current (child) process; return notes on what degraded.

    Every inherited file descriptor but ``keep_fd`` (the result channel) is closed, so the
    child cannot write into the grader's terminal, logs or gradebook.
    """
    notes: list[str] = []
    os.setsid()
    max_fd = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    max_fd = 65536 if max_fd == resource.RLIM_INFINITY else min(max_fd, 65536)
    os.closerange(3, keep_fd)
    os.closerange(keep_fd + 1, max_fd)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the file limit fails instead of killing
    os.chdir(scratch)
    log = os.open(scratch / "output.log", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    os.close(null)
    home = str(scratch)
    os.environ.clear()
    os.environ.update({"PATH": "/usr/bin:/bin", "HOME": home, "TMPDIR": home, "LANG": "C.UTF-8",
                       "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "MPLBACKEND": "Agg"})
    if not limits.network:
        why = unshare(CLONE_NEWNET)
        if why:
            notes.append(f"network not isolated (no new network namespace: {why})")
    why = confine_filesystem(limits.hide, scratch)
    os.chdir(scratch)  # into the writable bind mount (the old cwd is on the now read-only mount below it)
    if why:
        notes.append(f"files not confined: the submission can read the solutions and write outside its "
                     f"scratch directory (no mount namespace: {why})")
    else:
        why = enter_pid_namespace()  # needs the private mount namespace for its own /proc
        if why:
            notes.append(f"processes not isolated: the submission can see other processes, and read through "
                         f"/proc/<pid>/ what they can (no PID namespace: {why})")
    memory = limits.memory_mb * 2**20
    if device_type == "cuda":  # CUDA maps huge virtual ranges: limit the data segment instead
        _limit(resource.RLIMIT_DATA, _data_bytes() + memory)
        notes.append("memory limited by RLIMIT_DATA (CUDA needs a large address space)")
    else:
        _limit(resource.RLIMIT_AS, _vm_size_bytes() + memory)
    _limit(resource.RLIMIT_CPU, limits.cpu_seconds)
    _limit(resource.RLIMIT_FSIZE, limits.file_mb * 2**20)
    _limit(resource.RLIMIT_CORE, 0)
    drop, why = can_drop_user() if limits.drop_user else (False, "")
    if drop:
        os.setgroups([])
        os.setgid(NOBODY)
        os.setuid(NOBODY)
    elif why:
        notes.append(why)
    try:
        _limit(resource.RLIMIT_NPROC, limits.processes)
    except (ValueError, OSError):
        notes.append("process count not limited")
    return notes


def _data_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmData:"):
            return int(line.split()[1]) * 1024
    return 0

"""The trust boundary, applied in the forked child before any student code runs.

What is applied where it can be, and reported (never silently skipped) where it cannot:
a new session (so the whole process group can be killed), stdout/stderr to a capped file,
a clean environment and a command line that says nothing about the host, rlimits (memory,
CPU, file size, core; processes where no cgroup cages them), a new empty network namespace,
a new root holding only an allow-list of paths with a size-limited scratch tmpfs
(``confine.build_root``), a PID namespace with its own /proc, the user ``nobody`` when the
grader is root and Python is readable to it, and, whatever the uid, no capability,
``no_new_privs`` and a system-call filter (``confine.drop_privileges``).
"""

from __future__ import annotations

import contextlib
import functools
import glob
import os
import resource
import signal
import socket
import sys
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path

from .confine import (
    CLONE_NEWIPC,
    CLONE_NEWNET,
    CLONE_NEWUTS,
    build_root,
    drop_privileges,
    enter_pid_namespace,
    harden_proc,
    host_state_exposed,
    mount_proc,
    unshare,
)

NOBODY = 65534


@dataclass(frozen=True)
class Limits:
    memory_mb: int = 2048  # on top of what the forked child already maps
    cpu_seconds: int = 600
    file_mb: int = 32
    processes: int = 64
    disk_mb: int = 128  # the scratch tmpfs (and /dev/shm): all a submission may write
    network: bool = False
    drop_user: bool = True
    # grade even where a uid-0 child could write host state (``--allow-root-child``: the instructor said so)
    allow_root_child: bool = field(default_factory=lambda: ALLOW_ROOT_CHILD[0])


ALLOW_ROOT_CHILD = [False]  # set by the command line's --allow-root-child, for every grading of the process


class Refused(Exception):
    """The child cannot be confined as the grader requires: grading stops and says why."""


def _vm_size_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    return 0


def _processes_of(uid: int) -> int:
    """How many processes the user ``uid`` has on this machine now (RLIMIT_NPROC counts them all)."""
    count = 0
    for status in glob.glob("/proc/[0-9]*/status"):
        with contextlib.suppress(OSError):
            for line in Path(status).read_text().splitlines():
                if line.startswith("Uid:"):
                    count += line.split()[1] == str(uid)
                    break
    return count


def _limit(which: int, value: int) -> None:
    soft, hard = resource.getrlimit(which)
    value = value if hard == resource.RLIM_INFINITY else min(value, hard)
    resource.setrlimit(which, (value, value))


@functools.cache
def student_view() -> tuple[str, ...]:
    """The paths a submission may read: Python, its site-packages, and the student-facing course
    packages (the engine's folder, whose topic folders ``engine_folders`` covers, and ``shared/``). The
    engine's folder is bound whole: one mount instead of two per module (about 80 mount calls, 5 ms of
    every submission's set-up)."""
    from .guard import ENGINE, SHARED

    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    paths |= {v for k, v in sysconfig.get_paths().items() if k in ("stdlib", "platstdlib", "purelib", "platlib")}
    paths |= {p for p in sys.path if p.endswith(("site-packages", "dist-packages")) and os.path.isdir(p)}
    paths |= {os.path.realpath(p) for p in paths}
    files = {str(ENGINE), str(SHARED)}
    inside_python = {p for p in paths if any(p != q and p.startswith(q + "/") for q in paths)}
    return tuple(sorted((paths - inside_python) | files))


@functools.cache
def engine_folders() -> tuple[str, ...]:
    """What of the engine's folder the child must not see: every topic folder (hidden tests, mutants,
    variants) and any file that is not one of the engine's modules, covered in its root (even where the
    course is installed into site-packages)."""
    from .guard import ENGINE

    return tuple(sorted(str(p) for p in ENGINE.iterdir() if p.name != "__pycache__" and not (
        p.is_file() and p.suffix == ".py")))


@functools.cache
def can_drop_user() -> tuple[bool, str]:
    """Root switches the child to nobody. Where nobody cannot read Python or the course packages (a
    checkout made with umask 077, a venv in a private home), those folders are bound into the
    child's root through idmapped mounts that show their owner's files as nobody's (``unreadable``);
    only where the kernel refuses that does the child stay uid 0, without capabilities.

    In the child's own root (``build_root``) only the folders themselves must be readable by
    others: the folders above them are made anew there, open to all.
    """
    if os.geteuid() != 0:
        return False, "runs as the grader's own user (the grader is not root, so it cannot switch to nobody)"
    return True, ""


@functools.cache
def unreadable() -> dict[str, tuple[int, int]]:
    """The allowed paths nobody cannot read as they are, with their owner (uid, gid)."""
    out = {}
    for p in student_view():
        st = os.stat(p)
        if not st.st_mode & 0o004 or (os.path.isdir(p) and not st.st_mode & 0o001):
            out[p] = (st.st_uid, st.st_gid)
    return out


def prepare_view() -> None:
    """Work out the child's view (the allow-list, the folders that cover the engine's topics, what nobody
    cannot read) once, in the grader, before it forks: each child then only mounts it."""
    student_view()
    engine_folders()
    if can_drop_user()[0]:
        unreadable()


def prepare_scratch(path: Path) -> None:
    """The empty folder the child's new root is mounted on (parent side)."""
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)


def _scrub_command_line() -> None:
    """Blank the memory behind /proc/self/cmdline and /proc/self/environ (the grader's command
    line names the class folder and the output folder; its environment may hold secrets)."""
    sys.argv[:] = ["grader"]
    sys.orig_argv[:] = ["python"]
    try:
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        arg_start, arg_end, env_start, env_end = (int(x) for x in fields[45:49])
        fd = os.open("/proc/self/mem", os.O_RDWR)
    except (OSError, ValueError):
        return
    try:
        name = b"grader\0"
        os.pwrite(fd, name + bytes(max(arg_end - arg_start - len(name), 0)), arg_start)
        os.pwrite(fd, bytes(env_end - env_start), env_start)
    except OSError:
        pass
    finally:
        os.close(fd)


def enter(scratch: Path, limits: Limits, device_type: str, keep_fd: int, caged: bool = False) -> list[str]:
    """Apply the boundary to the current (child) process; return notes on what degraded.

    ``scratch`` is an empty folder the parent made: the child's new root is mounted on it (or,
    where no mount namespace may be made, the child works in it). Every inherited file
    descriptor but ``keep_fd`` (the result channel) is closed, so the child cannot write into the
    grader's terminal, logs or gradebook. ``caged``: a cgroup bounds this run's processes (then the
    per-user process limit, which counts every process of the user on the machine, is not needed).
    """
    notes: list[str] = []
    os.setsid()
    max_fd = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    max_fd = 65536 if max_fd == resource.RLIM_INFINITY else min(max_fd, 65536)
    os.closerange(3, keep_fd)
    os.closerange(keep_fd + 1, max_fd)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the file limit fails instead of killing
    _scrub_command_line()
    if not limits.network:
        why = unshare(CLONE_NEWNET)
        if why:
            notes.append(f"network not isolated (no new network namespace: {why})")
    # its own hostname and System V IPC: a uid-0 child must not rename the host or reach its shared memory
    if unshare(CLONE_NEWUTS) is None:
        with contextlib.suppress(OSError):
            socket.sethostname("grader")
    unshare(CLONE_NEWIPC)
    drop, why_not_nobody = can_drop_user() if limits.drop_user else (False, "")
    uid = NOBODY if drop else os.geteuid()
    devices = tuple(os.path.basename(p) for p in glob.glob("/dev/nvidia*")) if device_type == "cuda" else ()
    idmap_failed: list[str] = []
    why = build_root(str(scratch), student_view(), disk_mb=limits.disk_mb, uid=uid, devices=devices,
                     covered=engine_folders(), idmap=unreadable() if drop else None, idmap_failed=idmap_failed)
    if why:
        notes.append(f"files not confined: the submission can read what the grader's user can (the solutions, "
                     f"other submissions) and write outside its scratch folder (no private root: {why})")
        home = str(scratch)
        if drop and unreadable():
            drop, uid = False, os.geteuid()
            why_not_nobody = (f"runs as root without capabilities: nobody cannot read {next(iter(unreadable()))} "
                              "and no private root could show it to nobody")
        if drop:
            os.chown(scratch, NOBODY, NOBODY)
        others = 0 if caged else _processes_of(uid)
    else:
        home = "/scratch"
        if drop and idmap_failed:
            drop, uid = False, os.geteuid()
            os.chown("/scratch", uid, uid)
            why_not_nobody = (f"runs as root without capabilities: nobody cannot read {idmap_failed[0].split(':')[0]}"
                              f" and the kernel refused to show it through an idmapped mount ({idmap_failed[0]}); "
                              "make it readable to other users to get uid isolation too")
        others = 0 if caged else _processes_of(uid)  # counted while this /proc still shows the machine
        why = enter_pid_namespace()  # needs the private mount namespace for its own /proc (hardened there)
        if why:
            notes.append(f"processes not isolated: the submission can see other processes (no PID namespace: {why})")
            if mount_proc() is None:
                harden_proc()
    os.chdir(home)
    log = os.open("output.log", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    os.close(null)
    if drop:
        os.chown("output.log", NOBODY, NOBODY)
    os.environ.clear()
    os.environ.update({"PATH": "/usr/bin:/bin", "HOME": home, "TMPDIR": home, "LANG": "C.UTF-8",
                       "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "MPLBACKEND": "Agg"})
    memory = limits.memory_mb * 2**20
    if device_type == "cuda":  # CUDA maps huge virtual ranges: limit the data segment instead
        _limit(resource.RLIMIT_DATA, _data_bytes() + memory)
        notes.append("memory limited by RLIMIT_DATA (CUDA needs a large address space)")
    else:
        _limit(resource.RLIMIT_AS, _vm_size_bytes() + memory)
    _limit(resource.RLIMIT_CPU, limits.cpu_seconds)
    _limit(resource.RLIMIT_FSIZE, limits.file_mb * 2**20)
    _limit(resource.RLIMIT_CORE, 0)
    if why_not_nobody:
        notes.append(why_not_nobody)
    if uid == 0:
        exposed = host_state_exposed()  # sethostname itself needs a capability (and seccomp refuses it)
        if exposed and not limits.allow_root_child:
            raise Refused(f"graded code would run as uid 0 here and could change the host ({exposed}); the grader "
                          "refuses. Run the grader where it can use namespaces and mounts (as root in a container or "
                          "VM), make Python and the course readable to other users, or pass --allow-root-child to "
                          "grade anyway")
        if exposed:
            notes.append(f"graded code runs as uid 0 and could change the host ({exposed}): allowed by "
                         "--allow-root-child")
    notes += drop_privileges(NOBODY if drop else None)
    # RLIMIT_NPROC counts every process of the uid on the machine (other gradings' children, a student's
    # desktop): where a cgroup cages the run, its pids.max bounds the run's own processes and a fork bomb in
    # one grading cannot starve another's forks; elsewhere the uid may start ``processes`` more than it has
    if not caged:
        try:
            _limit(resource.RLIMIT_NPROC, others + limits.processes)
        except (ValueError, OSError):
            notes.append("process count not limited")
    return notes


def _data_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmData:"):
            return int(line.split()[1]) * 1024
    return 0

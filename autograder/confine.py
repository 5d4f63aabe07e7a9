"""Kernel mechanisms behind the sandbox, each degrading to a reason string where unavailable.

- ``unshare``: new network / mount namespaces (root or CAP_SYS_ADMIN);
- ``build_root``: in a private mount namespace, a new root that holds only an allow-list (the
  system folders, Python and its site-packages, the student-facing course packages) read-only,
  and a size-limited scratch tmpfs: the repository, its history, other checkouts, classmates'
  submissions and the gradebook are not there at all;
- ``enter_pid_namespace``: continue as the init of a new PID namespace with its own /proc, so
  no other process (the grader, other students' children) can be seen, signalled or entered
  through ``/proc/<pid>/root``, ``/mem`` or ``/environ``;
- ``ProcessCage``: a cgroup (v2, or v1's pids controller) that caps how many processes a
  submission may start and lets the grader kill every one of them afterwards, including those
  that left the process group with ``setsid``.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import signal
import time
import uuid
from pathlib import Path

CLONE_NEWNET = 0x40000000
CLONE_NEWNS = 0x00020000
CLONE_NEWPID = 0x20000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
PR_SET_PDEATHSIG = 1
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 0x4000, 0x40000


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


SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41}.get(os.uname().machine)
MNT_DETACH = 2
DEVICES = ("null", "zero", "full", "random", "urandom", "tty")
ETC = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "nsswitch.conf", "passwd", "group", "hosts",
       "fonts", "matplotlibrc", "mime.types")
SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# What a container runtime makes read-only or hides in /proc: kernel settings (a core_pattern of
# ``|command`` runs that command as root on the host), the magic SysRq trigger, interrupt and bus
# settings; and what shows kernel memory or other processes' timers and keys.
PROC_READ_ONLY = ("sys", "sysrq-trigger", "irq", "bus", "fs")
PROC_MASKED_FILES = ("kcore", "keys", "key-users", "timer_list", "sched_debug", "latency_stats", "kallsyms",
                     "kmsg", "kpagecount", "kpageflags", "kpagecgroup")
PROC_MASKED_DIRS = ("acpi", "scsi", "asound", "driver")


def _bind(source: str, target: str, *, writable: bool = False) -> str | None:
    """Bind ``source`` at ``target`` (created as an empty file or folder), read-only unless asked."""
    if os.path.isdir(source):
        os.makedirs(target, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if not os.path.exists(target):
            open(target, "w").close()
    why = _mount(os.fsencode(source), target, None, MS_BIND | MS_REC, None)
    if why or writable:
        return why
    return _mount(None, target, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, None)


def _place(source: str, root: str) -> str | None:
    """Make ``source`` (a file, a folder or a symbolic link) appear at the same path under ``root``."""
    target = root + source
    if os.path.islink(source):
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if not os.path.lexists(target):
            os.symlink(os.readlink(source), target)
        return None
    return _bind(source, target) if os.path.exists(source) else None


def build_root(base: str, allowed: tuple[str, ...], *, disk_mb: int, uid: int,
               devices: tuple[str, ...] = (), covered: tuple[str, ...] = (),
               idmap: dict[str, tuple[int, int]] | None = None, idmap_failed: list[str] | None = None) -> str | None:
    """In a new mount namespace, make a root holding only what a submission needs, and enter it.

    The new root is a small tmpfs at ``base`` (an empty folder). It holds read-only binds of the
    system folders (``/usr``, ``/lib``, ...), a handful of ``/etc`` files, the paths in ``allowed``
    (the Python installation, site-packages, the student-facing course packages), a ``/dev`` with
    only the harmless devices (and ``devices``, e.g. GPUs), a private ``/dev/shm``, and
    ``/scratch``: a tmpfs of ``disk_mb`` MiB owned by ``uid``, the only writable place, which
    vanishes with the namespace. Everything else (home folders, the repository, classmates'
    submissions, the gradebook) does not exist there; ``covered`` folders and files that an allowed
    path would show (the engine's topic folders) are covered by empty mounts. ``/sys`` is a fresh
    sysfs of the child's network namespace, read-only, without the host's submounts (cgroups,
    debugfs, tracing). ``idmap`` (path ->
    (uid, gid) of its owner) binds those allowed paths through an idmapped mount that shows the
    owner's files as ``uid``'s, read-only: an installation only its owner can read (a umask-077
    checkout, a venv in a private home) is still readable to an unprivileged child; where the
    kernel or the filesystem refuses, the path is bound as usual and named in ``idmap_failed``.
    None on success, else why not.
    """
    why = unshare(CLONE_NEWNS)
    if why:
        return why
    why = _mount(b"none", "/", None, MS_REC | MS_PRIVATE, None)  # nothing we do leaks to the host
    if why:
        return why
    if SYS_PIVOT_ROOT is None:
        return f"no pivot_root number known for {os.uname().machine}"
    why = _mount(b"tmpfs", base, b"tmpfs", MS_NOSUID | MS_NODEV, b"size=4m,mode=0755")
    if why:
        return why
    # Scratch (also seen as /tmp) first: an allowed path under /tmp (a course checked out there) is
    # then bound inside it, where a later /tmp mount would have hidden it.
    for folder in ("/scratch", "/proc", "/tmp", "/.old"):
        os.makedirs(base + folder, exist_ok=True)
    why = _mount(b"tmpfs", base + "/scratch", b"tmpfs", MS_NOSUID | MS_NODEV,
                 f"size={disk_mb}m,mode=0700,uid={uid},gid={uid}".encode())
    why = why or _bind(base + "/scratch", base + "/tmp", writable=True)
    if why:
        return why
    for path in (*SYSTEM, *(f"/etc/{name}" for name in ETC)):
        why = _place(path, base)
        if why:
            return why
    userns: dict[tuple[int, int], int] = {}
    try:
        for path in allowed:
            if not os.path.exists(path):
                continue
            if idmap and path in idmap:
                owner = idmap[path]
                if owner not in userns:
                    userns[owner] = _mapping_namespace(owner, uid)
                failed = userns[owner] if isinstance(userns[owner], str) else _bind_idmapped(path, base + path,
                                                                                               userns[owner])
                if not failed:
                    continue
                if idmap_failed is not None:
                    idmap_failed.append(f"{path}: {failed}")
            why = _bind(path, base + path)
            if why:
                return why
    finally:
        for fd in userns.values():
            if isinstance(fd, int):
                os.close(fd)
    os.makedirs(base + "/sys", exist_ok=True)
    # a fresh sysfs (allowed: the child owns its new network namespace), read-only; none at all if refused
    _mount(b"sysfs", base + "/sys", b"sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, None)
    for path in covered:
        if os.path.isdir(base + path):
            why = _mount(b"tmpfs", base + path, b"tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                         b"size=4k,mode=0555")
        elif os.path.isfile(base + path) and not os.path.islink(base + path):  # a file: /dev/null, unopenable
            # on this read-only mount without devices
            why = _bind("/dev/null", base + path)
        else:
            why = None
        if why:
            return why
    dev = base + "/dev"
    os.makedirs(dev)
    why = _mount(b"tmpfs", dev, b"tmpfs", MS_NOSUID | MS_NOEXEC, b"size=64k,mode=0755")
    for name in (*DEVICES, *devices):
        if why is None and os.path.exists(f"/dev/{name}"):
            why = _bind(f"/dev/{name}", f"{dev}/{name}", writable=True)
    if why:
        return why
    for link, to in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"),
                     ("stderr", "/proc/self/fd/2")):
        os.symlink(to, f"{dev}/{link}")
    os.makedirs(dev + "/shm")
    why = _mount(b"tmpfs", dev + "/shm", b"tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                 f"size={disk_mb}m,mode=1777".encode())
    if why:
        return why
    if _libc().syscall(SYS_PIVOT_ROOT, os.fsencode(base), os.fsencode(base + "/.old")) != 0:
        return f"pivot_root: {_errno()}"
    os.chdir("/")
    if _libc().umount2(b"/.old", MNT_DETACH) != 0:
        return f"the old root could not be detached: {_errno()}"
    os.rmdir("/.old")
    return _mount(None, "/", None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, None)


SYS_OPEN_TREE, SYS_MOVE_MOUNT, SYS_MOUNT_SETATTR = 428, 429, 442  # the same number on every architecture
OPEN_TREE_CLONE, OPEN_TREE_CLOEXEC, AT_RECURSIVE, AT_EMPTY_PATH, MOVE_MOUNT_F_EMPTY_PATH = 1, 0o2000000, 0x8000, \
    0x1000, 0x4
MOUNT_ATTR_RDONLY, MOUNT_ATTR_NOSUID, MOUNT_ATTR_NODEV, MOUNT_ATTR_IDMAP = 0x1, 0x2, 0x4, 0x100000


class _MountAttr(ctypes.Structure):
    _fields_ = [("attr_set", ctypes.c_uint64), ("attr_clr", ctypes.c_uint64), ("propagation", ctypes.c_uint64),
                ("userns_fd", ctypes.c_uint64)]


def _mapping_namespace(owner: tuple[int, int], uid: int) -> int | str:
    """A user namespace (its file descriptor) that maps ``owner``'s uid and gid to ``uid``, for an
    idmapped mount; or why none could be made. A helper process makes it and waits to be killed."""
    ready_r, ready_w = os.pipe()
    hold_r, hold_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(ready_r)
            os.close(hold_w)
            ok = _libc().unshare(CLONE_NEWUSER) == 0
            os.write(ready_w, b"1" if ok else b"0")
            os.read(hold_r, 1)
        finally:
            os._exit(0)
    os.close(ready_w)
    os.close(hold_r)
    try:
        if os.read(ready_r, 1) != b"1":
            return "no new user namespace"
        proc = f"/proc/{pid}"
        Path(f"{proc}/uid_map").write_text(f"{owner[0]} {uid} 1\n")
        Path(f"{proc}/setgroups").write_text("deny")
        Path(f"{proc}/gid_map").write_text(f"{owner[1]} {uid} 1\n")
        return os.open(f"{proc}/ns/user", os.O_RDONLY | os.O_CLOEXEC)
    except OSError as e:
        return f"the mapping could not be written ({e.strerror})"
    finally:
        os.close(ready_r)
        os.close(hold_w)
        os.waitpid(pid, 0)


def _bind_idmapped(source: str, target: str, userns_fd: int) -> str | None:
    """Bind ``source`` at ``target`` read-only through the idmapping of ``userns_fd``; None on success."""
    libc = _libc()
    fd = libc.syscall(SYS_OPEN_TREE, -100, os.fsencode(source), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE)
    if fd < 0:
        return f"open_tree: {_errno()}"
    try:
        attr = _MountAttr(MOUNT_ATTR_IDMAP | MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, 0, 0, userns_fd)
        if libc.syscall(SYS_MOUNT_SETATTR, fd, b"", AT_EMPTY_PATH | AT_RECURSIVE, ctypes.byref(attr),
                        ctypes.sizeof(attr)) != 0:
            return f"idmapped mount: {_errno()}"
        if os.path.isdir(source):
            os.makedirs(target, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            if not os.path.exists(target):
                open(target, "w").close()
        if libc.syscall(SYS_MOVE_MOUNT, fd, b"", -100, os.fsencode(target), MOVE_MOUNT_F_EMPTY_PATH) != 0:
            return f"move_mount: {_errno()}"
        return None
    finally:
        os.close(fd)


def harden_proc() -> str | None:
    """Make the kernel's settings under the current /proc read-only and hide what leaks kernel state,
    as container runtimes do: a child whose uid is 0 must not write host state through /proc."""
    for name in PROC_READ_ONLY:
        path = f"/proc/{name}"
        if os.path.exists(path):
            why = _mount(os.fsencode(path), path, None, MS_BIND | MS_REC, None) or _mount(
                None, path, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, None)
            if why:
                return why
    for name in PROC_MASKED_FILES:
        path = f"/proc/{name}"
        if os.path.isfile(path):
            why = _mount(b"/dev/null", path, None, MS_BIND, None)
            if why:
                return why
    for name in PROC_MASKED_DIRS:
        path = f"/proc/{name}"
        if os.path.isdir(path):
            why = _mount(b"tmpfs", path, b"tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, b"size=4k,mode=0555")
            if why:
                return why
    return None


def host_state_exposed() -> str | None:
    """What a uid-0 process here could still write of the host's state (kernel settings, sysfs,
    cgroups, the hostname), checked rather than assumed; None when nothing."""
    def writable(path: str) -> bool:
        try:
            return not os.statvfs(path).f_flag & os.ST_RDONLY
        except OSError:
            return False  # absent: nothing to write

    for path in ("/proc/sys", "/proc/sysrq-trigger", "/sys", "/sys/fs/cgroup", "/proc/sys/kernel"):
        if writable(path):
            return f"{path} is writable"
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
        why = mount_proc() or harden_proc()
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


# Refused to the child whatever its uid: ways out of its namespaces and mounts, into other
# processes' memory, and into the kernel. Namespace flags of clone() are refused one by one;
# clone3() (whose flags sit in memory a filter cannot read) answers ENOSYS so libc uses clone().
REFUSED_SYSCALLS = (
    "mount", "umount2", "pivot_root", "chroot", "setns", "unshare", "move_mount", "open_tree", "fsopen",
    "fsmount", "fsconfig", "fspick", "mount_setattr", "ptrace", "process_vm_readv", "process_vm_writev",
    "pidfd_getfd", "kcmp", "bpf", "perf_event_open", "userfaultfd", "io_uring_setup", "keyctl", "add_key",
    "request_key", "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load", "reboot",
    "swapon", "swapoff", "syslog", "acct", "quotactl", "open_by_handle_at", "name_to_handle_at", "iopl",
    "ioperm", "settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "sethostname", "setdomainname",
    "lookup_dcookie", "vhangup", "personality",
)
NAMESPACE_FLAGS = (0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000, 0x00000080)


def drop_privileges(uid: int | None) -> list[str]:
    """Leave the child no capability and no way to gain one, then filter its system calls.

    Capabilities (pyprctl): the bounding set is emptied (so no exec can regain any, not even as
    root), the ambient set cleared, securebits locked so uid 0 means nothing special, then the
    uid switched (when ``uid`` is given) and the permitted, effective and inheritable sets emptied;
    ``no_new_privs`` is set. The seccomp filter (pyseccomp over libseccomp) refuses
    REFUSED_SYSCALLS with EPERM. Returns notes on what the kernel refused (checked, not assumed,
    by reading /proc/self/status afterwards).
    """
    notes = []
    try:
        import pyprctl
    except ImportError:
        pyprctl = None
        notes.append("capabilities not dropped (the pyprctl package is missing)")
    if pyprctl is not None:
        for cap in pyprctl.Cap:
            with contextlib.suppress(OSError):
                pyprctl.capbset_drop(cap)
        with contextlib.suppress(OSError):
            pyprctl.cap_ambient_clear_all()
        with contextlib.suppress(OSError):
            b = pyprctl.Secbits
            pyprctl.set_securebits(b.NOROOT | b.NOROOT_LOCKED | b.NO_SETUID_FIXUP | b.NO_SETUID_FIXUP_LOCKED
                                   | b.KEEP_CAPS_LOCKED | b.NO_CAP_AMBIENT_RAISE | b.NO_CAP_AMBIENT_RAISE_LOCKED)
    if uid is not None:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
    if pyprctl is not None:
        with contextlib.suppress(OSError):
            pyprctl.CapState().set_current()  # an empty state: no effective, permitted or inheritable capability
        pyprctl.set_no_new_privs()
    notes += _seccomp()
    try:
        text = Path("/proc/self/status").read_text()
    except OSError:
        return [*notes, "capabilities could not be checked (no /proc)"]
    status = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
    kept = [k for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb") if int(status.get(k, "0").strip(), 16)]
    if kept:
        notes.append(f"capabilities kept ({', '.join(kept)}): the kernel refused to drop them")
    if status.get("NoNewPrivs", "0").strip() != "1":
        notes.append("no_new_privs not set")
    return notes


@functools.cache
def seccomp_filter():
    """The child's system-call filter, built once per grader process (libseccomp resolves every call's
    number: about 15 ms with its import), so a forked child only loads it; or why it cannot be built."""
    try:
        import errno

        import pyseccomp as sc
    except (ImportError, OSError) as e:
        return f"libseccomp unavailable: {e}"
    try:
        f = sc.SyscallFilter(sc.ALLOW)
        for name in REFUSED_SYSCALLS:
            with contextlib.suppress(Exception):  # a call this kernel or architecture does not have
                f.add_rule(sc.ERRNO(errno.EPERM), name)
        for flag in NAMESPACE_FLAGS:
            f.add_rule(sc.ERRNO(errno.EPERM), "clone", sc.Arg(0, sc.MASKED_EQ, flag, flag))
        with contextlib.suppress(Exception):
            f.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")
    except Exception as e:  # noqa: BLE001 - the library refused: say so
        return str(e)
    return f


def _seccomp() -> list[str]:
    f = seccomp_filter()
    if isinstance(f, str):
        return [f"system calls not filtered ({f})"]
    try:
        f.load()
    except Exception as e:  # noqa: BLE001 - the kernel refused: say so
        return [f"system calls not filtered ({e})"]
    return []


def mount_proc() -> str | None:
    """A /proc for the current PID namespace, in the current (private) root."""
    return _mount(b"proc", "/proc", b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None)


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

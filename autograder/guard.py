"""Which code is trusted, and an audit hook that keeps submissions out of the grader's memory.

Student code shares the grading child with the tests and the runner. Observations are judged
in the parent against values the child never sees, so reading the child's memory cannot reveal
a hidden answer; what it could do is find the runner's channel secret (to forge results whose
values are guessable, such as a boolean) or a trusted helper a test holds (to call a forbidden
API through it). The ways there are introspection: frames (``sys._getframe``,
``traceback.tb_frame``, ``generator.gi_frame``), the garbage collector's object lists, tracing
hooks, ``ctypes`` and ``/proc/self/mem`` (or another process's ``/proc/<pid>/``). Python's audit
hooks (PEP 578) see each of these and cannot be removed once added, so the child installs one
before any student code runs, and it refuses them when they come from untrusted code.

Trusted code lives in a file under the interpreter's library folders or this repository's
engine packages, or in a registered test file. A graded cell (``<GRADED: q>``), a kernel cell
and a module the submission wrote into its scratch folder are untrusted. A code object may
claim any file name, so compiling or building code that claims a trusted file is refused
too, unless it is that file's own source (a lazy import).
"""

from __future__ import annotations

import os
import sys
import sysconfig
from pathlib import Path


class ForbiddenAPIError(RuntimeError):
    """Graded code used what its question, or every question, may not use."""


TRUSTED_FILES: set[str] = set()  # test files, registered when collected (hidden ones are unseen in the child)

ENGINE = Path(__file__).resolve().parent
SHARED = ENGINE.parent / "shared"

# always refused from untrusted code
INTROSPECTION = frozenset({
    "sys._getframe", "sys._current_frames", "sys._getframemodulename", "sys.settrace", "sys.setprofile",
    "sys.addaudithook", "gc.get_objects", "gc.get_referrers", "gc.get_referents",
})
FRAME_ATTRS = frozenset({"tb_frame", "gi_frame", "cr_frame", "ag_frame"})
# stdlib functions that hand frames to their caller: the event is blamed on whoever called them.
# (traceback.print_exc reads frames too, but keeps them to itself: it is not listed.)
PASS_THROUGH: dict[str, set[str] | None] = {
    "inspect.py": {"currentframe", "stack", "trace", "getouterframes", "getinnerframes"},
    "traceback.py": {"walk_stack", "walk_tb"},
    "logging/__init__.py": {"currentframe", "<lambda>"},
    "bdb.py": {"set_trace"}, "pdb.py": {"set_trace"},
    "ctypes/__init__.py": None,  # every ctypes wrapper: blame who called it
}


def _roots() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    found = {paths[k] for k in ("stdlib", "platstdlib", "purelib", "platlib") if k in paths}
    found |= {str(ENGINE), str(SHARED)}
    found |= {p for p in sys.path if p.endswith(("site-packages", "dist-packages"))}
    out = set()
    for p in found:
        out |= {os.path.normpath(p), os.path.realpath(p)}
    return tuple(sorted(r.rstrip("/") + "/" for r in out))


def judge_files(roots: tuple[str, ...], files: frozenset[str]):
    """A ``trusted_file(filename)`` with its own cache, bound to the functions it needs now,
    so that later monkeypatches of ``os.path`` or of this module change nothing."""
    verdicts: dict[str, bool] = {}
    normpath, realpath, isabs = os.path.normpath, os.path.realpath, os.path.isabs

    def trusted_file(filename: str) -> bool:
        if filename in files:
            return True
        cached = verdicts.get(filename)
        if cached is None:
            if filename.startswith("<frozen "):  # importlib and friends, frozen into the interpreter
                cached = True
            elif filename.startswith("<") or not isabs(filename):
                cached = False
            else:
                path = normpath(filename)
                cached = path.startswith(roots) or realpath(path).startswith(roots)
            verdicts[filename] = cached
        return cached

    return trusted_file


def trusted_file(filename: str) -> bool:
    """Whether code compiled from ``filename`` is the grader's, a library's or a test's."""
    global _judge
    if _judge is None or len(TRUSTED_FILES) != _judge_size:
        _rebind()
    return _judge(filename)


_judge = None
_judge_size = -1


def _rebind() -> None:
    global _judge, _judge_size
    _judge, _judge_size = judge_files(ROOTS, frozenset(TRUSTED_FILES)), len(TRUSTED_FILES)


ROOTS = _roots()


def install() -> None:
    """Add the audit hook to this process (the grading child). It stays for the process's life.

    Everything the hook calls is bound here, from locals and builtins' C functions: a submission
    that replaces ``builtins.any`` or ``os.path.realpath`` later does not change its verdicts.
    """
    getframe, fsdecode, open_, isinstance_, len_ = sys._getframe, os.fsdecode, open, isinstance, len
    is_trusted = judge_files(ROOTS, frozenset(TRUSTED_FILES))
    passing = tuple((file, None if names is None else frozenset(names)) for file, names in PASS_THROUGH.items())
    introspection, frame_attrs, error = INTROSPECTION, FRAME_ATTRS, ForbiddenAPIError
    own_pid = str(os.getpid())
    busy = []

    def hands_over(code) -> bool:
        for file, names in passing:
            if (names is None or code.co_name in names) and code.co_filename.endswith(file):
                return True
        return False

    def culprit(frame) -> str | None:
        """The untrusted code behind an event: the frame that raised it, or who called a PASS_THROUGH."""
        while frame is not None and hands_over(frame.f_code):
            frame = frame.f_back
        if frame is None or is_trusted(frame.f_code.co_filename):
            return None
        return frame.f_code.co_filename

    def anywhere(frame) -> str | None:
        while frame is not None:
            if not is_trusted(frame.f_code.co_filename):
                return frame.f_code.co_filename
            frame = frame.f_back
        return None

    def same_source(source, filename: str) -> bool:
        if not isinstance_(source, (bytes, str)):
            return False
        try:
            with open_(filename, "rb") as f:
                data = f.read()
        except OSError:
            return False
        return (source if isinstance_(source, bytes) else source.encode()) == data

    def hook(event: str, args: tuple) -> None:
        if busy:
            return
        check = None
        if event in introspection:
            check = culprit
        elif event == "object.__getattr__":
            if len_(args) == 2 and args[1] in frame_attrs:
                check = culprit
        elif event.startswith("ctypes.") or event == "marshal.loads":
            check = culprit
        elif event == "open":
            path = args[0]
            if isinstance_(path, (str, bytes)):
                name = fsdecode(path)
                if name.startswith("/proc/"):
                    pid = name.split("/")[2]
                    if (pid.isdigit() and pid != own_pid) or name.rstrip("/").endswith(("/mem", "/pagemap")):
                        check = culprit  # another process's memory, environment or view of the files
        elif event == "code.__new__":  # code that claims to live in a trusted file (types.coroutine may)
            if len_(args) > 1 and isinstance_(args[1], str) and is_trusted(args[1]):
                check = culprit
        elif event == "compile":
            name = args[1] if len_(args) > 1 else None
            if isinstance_(name, str) and not name.startswith("<") and is_trusted(name):
                if not same_source(args[0], name):  # a lazy import compiles the file's own source
                    check = anywhere
        if check is None:
            return
        busy.append(1)
        try:
            where = check(getframe(1))
        finally:
            busy.pop()
        if where is not None:
            if event in ("compile", "code.__new__"):
                why = f"graded code may not compile code under a library's file name ({event}: {args[1]})"
            else:
                what = f"{event} ({args[1]})" if event == "object.__getattr__" else event
                why = f"graded code may not use {what}, which reaches into the grader's memory"
            raise error(f"{where.strip('<>')}: {why}; nothing in an assignment needs it")

    sys.addaudithook(hook)
    _guard_fix_co_filename(is_trusted, error)


def _vault(fn, is_trusted, error):
    """Calls ``fn`` for trusted code that ``send``s it arguments.

    ``fn`` lives only in this suspended generator's frame, which untrusted code cannot reach
    (``gi_frame`` is refused by the hook; a closure cell or a default argument would hand it
    over). The generator itself is reachable, so it checks who resumed it: the first frame
    outside this file must be trusted.
    """
    getframe, here = sys._getframe, __file__
    result = None
    while True:
        args = yield result
        caller = getframe(1)
        while caller is not None and caller.f_code.co_filename == here:
            caller = caller.f_back
        if caller is None or not is_trusted(caller.f_code.co_filename):
            result = (False, error("graded code may not call the grader's guarded functions"))
            continue
        try:
            result = (True, fn(*args))
        except Exception as e:  # noqa: BLE001 - handed back to the caller
            result = (False, e)


def _guard_fix_co_filename(is_trusted, error) -> None:
    """``_imp._fix_co_filename(code, path)`` renames a code object's file in place, without an
    audit event: importlib needs it for .pyc files; untrusted code would use it to pass as a
    library. ``_imp.create_builtin`` would hand out a fresh ``_imp`` with the original function."""
    import _imp

    fix, create = _vault(_imp._fix_co_filename, is_trusted, error), _vault(_imp.create_builtin, is_trusted, error)
    next(fix)
    next(create)

    def call(vault, *args):
        ok, value = vault.send(args)
        if not ok:
            raise value
        return value

    def _fix_co_filename(code, path):
        return call(fix, code, path)

    def create_builtin(spec):
        if getattr(spec, "name", None) == "_imp":
            raise error("graded code may not create the import machinery again (_imp)")
        return call(create, spec)

    _imp._fix_co_filename, _imp.create_builtin = _fix_co_filename, create_builtin

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

Who is responsible for an event is decided on the whole stack, not by the nearest caller:
walking outward from the event, library frames (the standard library, site-packages, frozen
importlib, the course's ``shared`` package) are intermediaries, and the first frame that is
not a library's decides. Graded code that calls ``heapq.merge(traceback.walk_stack(None))`` is
responsible for the frames walk_stack reads, even though only library code touched them.
Library code may still read frames for its own purposes when it hands back only names or text
(``namedtuple``'s module name, ``typing``, ``logging``'s caller lookup, ``traceback.format_exc``):
what is refused is a frame read that graded code makes itself, or that passes through a library
function handing frames or locals to its caller (FRAME_HANDING). Every refusal is recorded, and
the runner reports it to the grader as an integrity flag on the question.
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
# The events the hook judges, besides every ``ctypes.*`` event and a frame attribute read through
# ``object.__getattr__``. Any other event (``builtins.id``, a frame's ``f_code`` read: thousands per test,
# most from the engine's own caller checks) returns at once, before the hook so much as looks at a frame.
JUDGED_EVENTS = INTROSPECTION | {"ctypes.dlopen", "ctypes.dlsym", "ctypes.dlsym/handle", "marshal.loads", "open",
                                 "os.symlink", "code.__new__", "compile", "exec"}
# Library functions that hand the frames (or their locals) they read to their caller: graded code
# may not call them, directly or through other library code (``heapq.merge(walk_stack(None))``).
# Other library code reads frames for itself and returns names or text (namedtuple, typing,
# logging's caller lookup, warnings): that stays allowed. traceback's own walkers are allowed
# only while traceback formats them without their locals (file suffix -> function names).
FRAME_HANDING: dict[str, frozenset[str] | None] = {
    "traceback.py": frozenset({"walk_stack", "walk_tb", "_walk_tb_with_full_positions"}),
    "inspect.py": frozenset({"currentframe", "stack", "trace", "getouterframes", "getinnerframes",
                             "getgeneratorlocals", "getcoroutinelocals", "getasyncgenlocals"}),
    "logging/__init__.py": frozenset({"<lambda>", "currentframe"}),
    "asyncio/base_tasks.py": None, "bdb.py": None, "pdb.py": None, "code.py": None,
}
# Library files that call a FRAME_HANDING function for themselves and keep the frames: torch's
# scripting and tracing internals, logging's caller lookup, matplotlib's argument checks.
FRAME_CONSUMERS = ("logging/__init__.py", "torch/_jit_internal.py", "torch/_refs/__init__.py",
                   "torch/cuda/_sanitizer.py", "matplotlib/axes/_base.py")
FRAME_CONSUMER_FOLDERS = ("/torch/jit/", "/torch/fx/", "/torch/_dynamo/", "/torch/_export/", "/torch/export/",
                          "/torch/_inductor/")
# Import-system functions that hand the code objects they load back to their caller, instead of
# executing them: graded code calling them directly may not unmarshal bytecode through them.
CODE_RETURNING = frozenset({"_compile_bytecode", "get_code", "source_to_code", "_unmarshal_code"})
UNTRUSTED, LIBRARY, RESPONSIBLE = 0, 1, 2


def _roots(engine: bool) -> tuple[str, ...]:
    """Library roots (Python, site-packages, ``shared``), or the engine's own."""
    paths = sysconfig.get_paths()
    if engine:
        found = {str(ENGINE)}
    else:
        found = {paths[k] for k in ("stdlib", "platstdlib", "purelib", "platlib") if k in paths} | {str(SHARED)}
        found |= {p for p in sys.path if p.endswith(("site-packages", "dist-packages"))}
    out = set()
    for p in found:
        out |= {os.path.normpath(p), os.path.realpath(p)}
    return tuple(sorted(r.rstrip("/") + "/" for r in out))


def classifier(library: tuple[str, ...], engine: tuple[str, ...], files: frozenset[str]):
    """A ``classify(filename) -> UNTRUSTED | LIBRARY | RESPONSIBLE`` with its own cache, bound to
    the functions it needs now, so that later monkeypatches of ``os.path`` or of this module
    change nothing. Test files and the engine are RESPONSIBLE (trusted to decide); the standard
    library, site-packages, frozen importlib and ``shared`` are LIBRARY (trusted intermediaries)."""
    verdicts: dict[str, int] = {}
    normpath, realpath, isabs = os.path.normpath, os.path.realpath, os.path.isabs

    def classify(filename: str) -> int:
        if filename in files:
            return RESPONSIBLE
        cached = verdicts.get(filename)
        if cached is None:
            if filename.startswith("<frozen "):  # importlib and friends, frozen into the interpreter
                cached = LIBRARY
            elif filename.startswith("<") or not isabs(filename):
                cached = UNTRUSTED
            else:
                paths = (normpath(filename), realpath(filename))
                cached = (RESPONSIBLE if any(p.startswith(engine) for p in paths) else
                          LIBRARY if any(p.startswith(library) for p in paths) else UNTRUSTED)
            verdicts[filename] = cached
        return cached

    return classify


def judge_files(library: tuple[str, ...], engine: tuple[str, ...], files: frozenset[str]):
    """``trusted_file(filename)``: library, engine or test code (anything but UNTRUSTED)."""
    classify = classifier(library, engine, files)
    return lambda filename: classify(filename) != UNTRUSTED


def trusted_file(filename: str) -> bool:
    """Whether code compiled from ``filename`` is the grader's, a library's or a test's."""
    size = len(TRUSTED_FILES)
    if _JUDGE.get("size") != size:  # a dict changed in place: the module's attributes never change
        _JUDGE.update(size=size, judge=judge_files(LIBRARY_ROOTS, ENGINE_ROOTS, frozenset(TRUSTED_FILES)))
    return _JUDGE["judge"](filename)


_JUDGE: dict = {}


LIBRARY_ROOTS, ENGINE_ROOTS = _roots(engine=False), _roots(engine=True)


def install():
    """Add the audit hook to this process (the grading child). It stays for the process's life.

    Everything the hook calls is bound here, from locals and builtins' C functions: a submission
    that replaces ``builtins.any`` or ``os.path.realpath`` later does not change its verdicts.
    Returns ``drain()``, which hands the runner (and only it: it holds the only reference) the
    refusals recorded since the last call.
    """
    getframe, fsdecode, open_, isinstance_, len_ = sys._getframe, os.fsdecode, open, isinstance, len
    realpath, join, getcwd, isabs, dirname = os.path.realpath, os.path.join, os.getcwd, os.path.isabs, os.path.dirname
    compile_, code_type, here = compile, type(install.__code__), __file__
    classify = classifier(LIBRARY_ROOTS, ENGINE_ROOTS, frozenset(TRUSTED_FILES))
    handing = tuple((file, names) for file, names in FRAME_HANDING.items())
    consumers, consumer_folders = FRAME_CONSUMERS, FRAME_CONSUMER_FOLDERS
    code_returning = CODE_RETURNING
    introspection, frame_attrs, error, judged = INTROSPECTION, FRAME_ATTRS, ForbiddenAPIError, JUDGED_EVENTS
    getpid, str_ = os.getpid, str  # asked each time: a process forked after install (one per question) has its own
    writable_or_links = ("/dev/", "/scratch", "/tmp", "/var/tmp", "/run", str(os.getcwd()))
    busy: list[int] = []
    refusals: list[str] = []
    genuine: dict[str, object] = {}  # library file -> its code compiled from source (for exec checks)

    def responsible(frame):
        """(verdict of the first non-library frame outward, the library frame it called, or None)."""
        entry = None
        while frame is not None:
            code = frame.f_code
            if code.co_filename != here:
                verdict = classify(code.co_filename)
                if verdict != LIBRARY:
                    return verdict, entry
                entry = code
            frame = frame.f_back
        return RESPONSIBLE, None

    def hands_frames(code) -> bool:
        for file, names in handing:
            if code.co_filename.endswith(file) and (names is None or code.co_name in names):
                return True
        return False

    def frames_escape(frame) -> bool:
        """Whether the frames read at ``frame`` may reach graded code: it reads them itself, or a
        library function on the way to it hands frames or locals to its caller."""
        first = frame
        while frame is not None:
            code = frame.f_code
            verdict = classify(code.co_filename) if code.co_filename != here else LIBRARY
            if verdict != LIBRARY:
                return verdict == UNTRUSTED and frame is first
            if hands_frames(code):
                consumer = frame.f_back
                name = consumer.f_code.co_filename if consumer is not None else ""
                formatted = (consumer is not None and consumer.f_code.co_name == "_extract_from_extended_frame_gen"
                             and name.endswith("traceback.py") and not consumer.f_locals.get("capture_locals"))
                kept = formatted or name.endswith(consumers) or any(folder in name for folder in consumer_folders)
                if not kept:
                    return responsible(frame)[0] == UNTRUSTED
            frame = frame.f_back
        return False

    def reaches_memory(name: str, base: str) -> bool:
        """Whether opening ``name`` reaches a process's memory (its ``mem`` or ``pagemap``) or another
        process's /proc folder, judged by what the path resolves to (``//proc/self/mem``, ``../mem``
        and links included), not by its spelling; a relative ``mem`` or ``pagemap`` opened through a
        folder's descriptor (whose folder the event does not say) counts too."""
        leaf = name.rstrip("/").rpartition("/")[2]
        if leaf in ("mem", "pagemap") and not isabs(name):
            return True
        if isabs(name) and "proc" not in name and not name.startswith(writable_or_links):
            return False  # no link into /proc can lie on the way (graded code cannot make one: os.symlink)
        try:
            resolved = realpath(name if isabs(name) else join(base or getcwd(), name))
        except (OSError, ValueError):
            return leaf in ("mem", "pagemap")
        if not resolved.startswith("/proc/"):
            return False
        pid = resolved.split("/")[2]
        return (pid.isdigit() and pid != str_(getpid())) or resolved.endswith(("/mem", "/pagemap"))

    def same_source(source, filename: str) -> bool:
        if not isinstance_(source, (bytes, str)):
            return False
        try:
            with open_(filename, "rb") as f:
                data = f.read()
        except OSError:
            return False
        return (source if isinstance_(source, bytes) else source.encode()) == data

    def is_genuine(code, filename: str) -> bool:
        """Whether ``code`` is what ``filename``'s source compiles to (not bytecode that claims it)."""
        if filename not in genuine:
            try:
                with open_(filename, "rb") as f:
                    genuine[filename] = compile_(f.read(), filename, "exec", dont_inherit=True)
            except (OSError, SyntaxError, ValueError):
                genuine[filename] = None
        return genuine[filename] is not None and genuine[filename] == code

    def verdict(event: str, args: tuple, frame) -> str | None:
        """Why ``event`` is refused, or None."""
        if frame is not None and frame.f_code.co_filename == here:
            return None  # the guard's own look at who called it
        frame_event = event in ("sys._getframe", "sys._getframemodulename", "sys._current_frames") or (
            event == "object.__getattr__" and len_(args) == 2 and args[1] in frame_attrs)
        if frame_event:
            if frames_escape(frame):
                what = f"{event} ({args[1]})" if event == "object.__getattr__" else event
                return f"graded code may not use {what}, which reaches into the grader's memory"
        elif event in introspection:
            if responsible(frame)[0] == UNTRUSTED:
                return f"graded code may not use {event}, which reaches into the grader's memory"
        elif event in ("ctypes.dlopen", "ctypes.dlsym", "ctypes.dlsym/handle"):
            # loading a library (torch's import does): refused only to graded code itself
            while frame is not None and frame.f_code.co_filename.endswith("ctypes/__init__.py"):
                frame = frame.f_back
            if frame is not None and classify(frame.f_code.co_filename) == UNTRUSTED:
                return f"graded code may not use {event}, which reaches into the grader's memory"
        elif event.startswith("ctypes."):  # memory at an address, C functions called: on nobody's behalf
            if responsible(frame)[0] == UNTRUSTED:
                return f"graded code may not use {event}, which reaches into the grader's memory"
        elif event == "marshal.loads":
            who, entry = responsible(frame)
            if who == UNTRUSTED and (entry is None or entry.co_name in code_returning):
                return "graded code may not load bytecode (marshal.loads)"
        elif event == "open":
            path = args[0]
            if isinstance_(path, (str, bytes)) and reaches_memory(fsdecode(path), ""):
                if responsible(frame)[0] == UNTRUSTED:
                    return f"graded code may not open {fsdecode(path)}, which reaches into the grader's memory"
        elif event == "os.symlink":  # a link made now to open later, through a folder's descriptor
            target = args[0] if len_(args) else None
            if isinstance_(target, (str, bytes)) and len_(args) > 1 and isinstance_(args[1], (str, bytes)):
                where = dirname(fsdecode(args[1]))
                if reaches_memory(fsdecode(target), where) or "proc" in fsdecode(target):
                    if responsible(frame)[0] == UNTRUSTED:
                        return f"graded code may not link to {fsdecode(target)}, which reaches into the grader's memory"
        elif event == "code.__new__":  # library code may rebuild its own code (types.coroutine does)
            if len_(args) > 1 and isinstance_(args[1], str) and classify(args[1]) != UNTRUSTED:
                if frame is None or classify(frame.f_code.co_filename) == UNTRUSTED:
                    return f"graded code may not make code under a library's file name ({args[1]})"
        elif event == "compile":
            name = args[1] if len_(args) > 1 else None
            if isinstance_(name, str) and not name.startswith("<") and classify(name) != UNTRUSTED:
                if responsible(frame)[0] == UNTRUSTED and not same_source(args[0], name):
                    return f"graded code may not compile code under a library's file name ({name})"
        elif event == "exec":
            code = args[0] if len_(args) else None
            if isinstance_(code, code_type) and not code.co_filename.startswith("<") \
                    and classify(code.co_filename) != UNTRUSTED and responsible(frame)[0] == UNTRUSTED \
                    and not is_genuine(code, code.co_filename):
                return f"graded code may not run bytecode that claims a library's file name ({code.co_filename})"
        return None

    def hook(event: str, args: tuple) -> None:
        if busy or event not in judged and not (event == "object.__getattr__" and len_(args) == 2
                                                and args[1] in frame_attrs) and not event.startswith("ctypes."):
            return  # nothing ``verdict`` would refuse (it judges only these events)
        busy.append(1)
        try:
            try:
                frame = getframe(1)
            except ValueError:  # raised from C with no Python frame above the hook
                frame = None
            why = verdict(event, args, frame)
        finally:
            busy.pop()
        if why is not None:
            if len_(refusals) < 100:
                refusals.append(why)
            raise error(f"{why}; nothing in an assignment needs it")

    def drain() -> list[str]:
        out = refusals[:]
        refusals.clear()
        return out

    sys.addaudithook(hook)
    _guard_builtins(classify, responsible, error, refusals)
    return drain


def _vault(fn, allow):
    """Calls ``fn`` with the arguments ``send`` hands it, when ``allow(caller frame, args)``.

    ``fn`` lives only in this suspended generator's frame, which untrusted code cannot reach
    (``gi_frame`` is refused by the hook; a closure cell or a default argument would hand it
    over). The generator itself is reachable, so it judges who resumed it: the first frame
    outside this file.
    """
    getframe, here = sys._getframe, __file__
    result = None
    while True:
        args = yield result
        caller = getframe(1)
        while caller is not None and caller.f_code.co_filename == here:
            caller = caller.f_back
        try:
            why = allow(caller, args)
            result = (False, why) if why is not None else (True, fn(*args))
        except Exception as e:  # noqa: BLE001 - handed back to the caller
            result = (False, e)


def _guard_builtins(classify, responsible, error, refusals) -> None:
    """Guard the C functions that raise no audit event but would hand graded code a way in.

    - ``_imp._fix_co_filename(code, path)`` renames a code object's file in place: importlib
      needs it for .pyc files; graded code would use it to pass as a library. It serves trusted
      callers, and renaming code to a library file must leave code that file's source compiles to.
    - ``_imp.create_builtin`` would hand out a fresh ``_imp``, ``gc`` or ``_signal`` with the
      original functions: a builtin module already loaded is not made again for graded code.
    - ``signal.signal``: a handler receives the interrupted frame; graded code's handlers get None.
    - ``gc.set_debug``: DEBUG_SAVEALL would put collected frames in ``gc.garbage``.
    """
    import _imp
    import _signal
    import gc

    loaded = frozenset(sys.builtin_module_names) & frozenset(sys.modules)

    def refuse(why: str):
        if len(refusals) < 100:
            refusals.append(why)
        return error(f"{why}; nothing in an assignment needs it")

    def allow_fix(caller, args):
        if caller is None or classify(caller.f_code.co_filename) == UNTRUSTED:
            return refuse("graded code may not call the grader's guarded functions")
        code, path = args
        if code.co_filename != path and classify(path) != UNTRUSTED and responsible(caller)[0] == UNTRUSTED:
            try:
                with open(path, "rb") as f:
                    genuine = compile(f.read(), path, "exec", dont_inherit=True)
            except (OSError, SyntaxError, ValueError):
                genuine = None
            if genuine != code:
                return refuse(f"graded code may not rename code to a library's file ({path})")
        return None

    def allow_create(caller, args):
        name = getattr(args[0], "name", None)
        if name == "_imp" or (name in loaded and responsible(caller)[0] == UNTRUSTED):
            return refuse(f"graded code may not create the builtin module {name} again")
        if caller is None or classify(caller.f_code.co_filename) == UNTRUSTED:
            return refuse("graded code may not call the grader's guarded functions")
        return None

    def allow_signal(caller, args):
        signum, handler = args
        if callable(handler) and responsible(caller)[0] == UNTRUSTED:
            args[1] = _frameless(handler)
        return None

    def allow_debug(caller, args):
        if args[0] and responsible(caller)[0] == UNTRUSTED:
            return refuse("graded code may not change the garbage collector's debugging flags")
        return None

    vaults = {}
    for key, fn, allow in (("fix", _imp._fix_co_filename, allow_fix), ("create", _imp.create_builtin, allow_create),
                           ("signal", _signal.signal, allow_signal), ("debug", gc.set_debug, allow_debug)):
        vaults[key] = _vault(fn, allow)
        next(vaults[key])

    def call(vault, *args):
        ok, value = vault.send(list(args))
        if not ok:
            raise value
        return value

    fix, create, sig, debug = vaults["fix"], vaults["create"], vaults["signal"], vaults["debug"]

    def _fix_co_filename(code, path):
        return call(fix, code, path)

    def create_builtin(spec):
        return call(create, spec)

    def signal(signalnum, handler):
        return call(sig, signalnum, handler)

    def set_debug(flags):
        return call(debug, flags)

    _imp._fix_co_filename, _imp.create_builtin, _signal.signal, gc.set_debug = (
        _fix_co_filename, create_builtin, signal, set_debug)


def _frameless(handler):
    """A signal handler that calls ``handler`` without the interrupted frame."""
    return lambda signum, frame: handler(signum, None)

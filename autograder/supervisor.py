"""The parent side of grading: fork a sandboxed child per submission, read its events, survive it.

The child builds the module once and forks a process per question from it; together they stream
JSON lines (``hello``, ``cell``, ``built``, then per question ``begin``, ``start``/``end`` per test
and ``reaped``, then ``done``). If the child or a question's process dies or overruns a deadline,
the parent kills the child's whole process group, blames the cell or test that was running, and
forks a fresh child for what is left. The parent never imports student code and never runs a torch
operation, so forking it stays safe (see ENGINE_FACTS.md).
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import json
import os
import secrets
import select
import shutil
import signal
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from .collect import Case
from .confine import ProcessCage
from .manifest import Assignment
from .notebook import Submission
from .policy import prepare
from .sandbox import Limits

# Imported once in the warm parent so that no child pays for them. Imports only: no torch op runs here.
# torch.optim's optimizers ask torch._dynamo for two eager no-ops: a stand-in answers (``dynamo_standin``).
WARM_MODULES = ("numpy.random", "torch.nn.functional", "torch.optim", "torch.linalg",
                "shared", "shared.models", "_pytest.outcomes", "autograder.guard", "autograder.runner", "pyprctl")
GRACE = 2.0  # seconds past a soft deadline before the child is killed
STARTUP = 60.0  # seconds the child may take to start and build the module (CUDA init included)


@dataclass
class RunReport:
    outcomes: dict[str, dict] = field(default_factory=dict)  # case id -> end event
    cell_errors: dict[str, str] = field(default_factory=dict)  # question -> why its cell did not run
    notes: list[str] = field(default_factory=list)  # what the sandbox could not apply
    flags: dict[str, list[str]] = field(default_factory=dict)  # question -> integrity flags (instructors only)
    restarts: int = 0
    # one per question, in seconds: its share of the child's sandbox set-up (fork to hello) and module build,
    # the fork of its own process, its tests, its end until reaped and cleared (teardown); what `make bench`
    # reports as the per-question overhead
    children: list[dict] = field(default_factory=list)
    _marks: dict = field(default_factory=dict)

    def flag(self, question: str, what: str) -> None:
        found = self.flags.setdefault(question, [])
        if what not in found and len(found) < 50:
            found.append(what)


@functools.cache
def warm_up(solution: Path | None = None, compiler: bool = False) -> None:
    """Import, once per grader process, what every child would otherwise import itself.

    Besides WARM_MODULES, the import-only cells of the (trusted) reference solution run here,
    so a student's ``import matplotlib.pyplot as plt`` costs the child nothing. ``compiler``: the
    assignment's tests use what needs the real ``torch._dynamo`` (else a stand-in answers).
    """
    os.environ.setdefault("MPLBACKEND", "Agg")
    from . import dynamo_standin

    if compiler:
        dynamo_standin.load()
    else:
        dynamo_standin.install()
    for name in WARM_MODULES:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    from .confine import seccomp_filter
    from .sandbox import prepare_view

    seccomp_filter()  # built here, loaded by each child
    prepare_view()  # and the paths each child's root shows
    if solution is not None and solution.exists():
        from .notebook import read_submission

        for cell in read_submission(solution).imports:
            with contextlib.suppress(Exception):
                exec(compile(cell.source, str(solution), "exec"), {})


@functools.cache
def _needs_compiler(assignment: Assignment) -> bool:
    from .dynamo_standin import needed

    tests = [p for d in (assignment.public_tests, assignment.hidden_tests) if d.is_dir()
             for p in d.rglob("*.py")]
    return needed([assignment.solution_path, *tests])


def snapshot():
    """The libraries' attributes as they are now, in the grader, which never runs student code (see
    ``pristine``). Taken for every submission: the grader's own libraries may change state between
    two submissions (pytest's assertion hooks, ``time.tzname``), and that is not the submission's doing."""
    from .pristine import Pristine

    return Pristine()


def _child(write_fd: int, nonce: str, cage: ProcessCage, sub: Submission, cases: list[Case],
           assignment: Assignment, device: str, skip_cells: dict[str, str], budgets: dict[str, float],
           limits: Limits, scratch: Path, salt: str, pristine) -> None:
    """Runs in the forked child (the submission's zygote); never returns.

    It enters the sandbox and builds the module once, then forks one process per question from
    that state, waits for it and clears what it left before the next (on CUDA, which a fork
    cannot inherit, it runs its one question itself)."""
    code = 0
    try:
        cage.join()  # first, before anything the submission could fork from
        import torch

        torch.set_num_threads(1)
        from . import sandbox
        from .notebook import build_module
        from .runner import run_cases

        # bound now: a submission's cells may replace them later
        dumps, write, fork, waitpid, exit_, getpid, kill = (json.dumps, os.write, os.fork, os.waitpid, os._exit,
                                                           os.getpid, os.kill)
        suppress, sigkill, groups = contextlib.suppress, signal.SIGKILL, _by_question(cases)

        def emit(event: dict) -> None:
            data = (dumps({**event, "k": nonce}, allow_nan=True) + "\n").encode()
            if len(data) > MAX_LINE and event.get("ev") == "end":  # observations too large to send: say so
                mb = len(data) / 2**20
                data = (dumps({**event, "k": nonce, "status": "error", "obs": [], "message": (
                    f"the values this test recorded from your code are {mb:.0f} MB, too large to compare: "
                    "check the shapes your code returns")}) + "\n").encode()
            while data:
                data = data[write(write_fd, data):]

        try:
            notes = sandbox.enter(scratch, limits, device, keep_fd=write_fd, caged=cage.path is not None)
        except sandbox.Refused as e:
            emit({"ev": "refused", "why": str(e)})
            return
        if cage.path is None:
            notes.append(f"processes not caged: a fork bomb is limited only by RLIMIT_NPROC, which root "
                         f"ignores, and escaped background processes may survive ({cage.why})")
        from .guard import install

        drain = install()  # from here on, untrusted code cannot reach frames, gc lists, ctypes or /proc/*/mem
        from .policy import adopt, guard_dispatch

        guard_dispatch()  # and cannot switch off the dispatcher's check of forbidden kernels
        emit({"ev": "hello", "notes": notes})
        forbidden = {q.id: q.forbidden for q in assignment.questions}
        # ``pristine``: taken in the grader just before forking, which never runs student code
        dev = torch.device(device)
        if dev.type == "cuda":
            torch.backends.cuda.matmul.allow_tf32 = False
            torch.backends.cudnn.allow_tf32 = False
        replaced: list[str] = []
        running = ["an import cell"]

        def undo() -> None:  # what the cell that just ran changed in the libraries reaches no test
            replaced.extend(f"{running[0]} replaced {name} in the grader's libraries"
                            for name in pristine.restore())

        def on_cell(q: str) -> None:
            undo()
            running[0] = f"the {q} cell"
            emit({"ev": "cell", "q": q})

        mod = build_module(sub, assignment.owners, skip=skip_cells, forbidden=forbidden, on_cell=on_cell)
        undo()
        mod._errors.update(skip_cells)  # cells an earlier child died in: say why their names are missing
        from .policy import refusals

        flags = drain() + replaced + [f"forbidden API: {m[:200]}" for m in refusals()]  # what the cells were refused
        emit({"ev": "built", "errors": dict(mod._errors), "flags": flags})
        namespace_init = getpid() == 1  # the init of its own PID namespace: every other process there is the run's
        for group in groups:
            question = group[0].question
            inline = dev.type == "cuda"  # a forked child cannot use the CUDA its parent initialised
            pid = 0 if inline else fork()
            if pid == 0:
                ending = 0
                try:
                    if not inline:
                        adopt()  # the test files frozen and the module watched before the cells ran
                    emit({"ev": "begin", "q": question})
                    run_cases(group, mod, dev, forbidden=forbidden, budgets=budgets, emit=emit, pristine=pristine,
                              drain=drain, salt=salt)
                except BaseException:  # noqa: BLE001 - the parent sees the missing "end" and reports it
                    import traceback

                    traceback.print_exc()
                    ending = 70
                if not inline:
                    exit_(ending)
                status = ending << 8  # run here: the wait status of a process that exited so
            else:
                status = waitpid(pid, 0)[1]
                if namespace_init:  # what the question's processes started ends with them
                    with suppress(OSError):
                        kill(-1, sigkill)
                    with suppress(ChildProcessError):
                        while True:
                            waitpid(-1, 0)
            emit({"ev": "reaped", "q": question, "status": status})
        emit({"ev": "done"})
    except BaseException:  # noqa: BLE001 - the parent sees the missing "done" and reports it
        import traceback

        traceback.print_exc()  # into the scratch folder's output.log
        code = 70
    finally:
        os._exit(code)


def _kill(pid: int) -> None:
    for target in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
        try:
            target()
        except (ProcessLookupError, PermissionError):
            pass


def _stop(pid: int, finished: bool) -> int:
    """Kill a child and all it started; return its wait status.

    The child may be a waiter whose own child is the init of a PID namespace (``confine``).
    That one is killed first, so the waiter reaps it and leaves no zombie behind; a waiter,
    like a child that said "done", then ends by itself at once. Then the whole process group goes.
    """
    try:
        inner = [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except (OSError, ValueError):
        inner = []
    waiter = any(_pid_namespace(p) != _pid_namespace(pid) for p in inner)
    for p in inner:
        with contextlib.suppress(OSError):
            os.kill(p, signal.SIGKILL)
    wait = 1.0 if waiter or finished else 0.0
    if wait and _exited(pid, wait):
        return os.waitpid(pid, 0)[1]
    _kill(pid)
    return os.waitpid(pid, 0)[1]


def _exited(pid: int, timeout: float) -> bool:
    """Whether the child ``pid`` ends within ``timeout`` seconds (woken by its end where the kernel has
    pidfds, else polled)."""
    with contextlib.suppress(AttributeError, OSError):
        fd = os.pidfd_open(pid)
        try:
            return bool(select.select([fd], [], [], timeout)[0])
        finally:
            os.close(fd)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
            return True
        time.sleep(0.005)
    return False


def _pid_namespace(pid: int) -> str:
    try:
        return os.readlink(f"/proc/{pid}/ns/pid")
    except OSError:
        return ""


def _describe_exit(status: int) -> str:
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        hint = {"SIGKILL": " (killed: time or memory limit?)", "SIGXCPU": " (CPU time limit)",
                "SIGSEGV": " (segmentation fault)"}.get(name, "")
        return f"the grading process was killed by {name}{hint}"
    return f"the grading process exited early with code {os.WEXITSTATUS(status)}"


def run_submission(sub: Submission, cases: list[Case], assignment: Assignment, device: str = "cpu",
                   limits: Limits | None = None, salt: str = "") -> RunReport:
    """Run ``cases`` against ``sub`` in sandboxed children; return what they reported.

    One sandboxed child builds the module and forks a process per question from it (no state of
    one question's tests reaches another's). When it dies or overruns, what was running is blamed
    and a fresh child takes what is left.
    """
    limits = limits or Limits(memory_mb=assignment.memory_mb)
    limits_cpu = sum(q.time_limit for q in assignment.graded) + STARTUP
    limits = Limits(**{**limits.__dict__, "cpu_seconds": int(min(limits.cpu_seconds, limits_cpu))})
    warm_up(assignment.solution_path, _needs_compiler(assignment))
    _RUNS[0] += 1
    if _RUNS[0] >= 2:  # a grader that lives on (a loop of grades): its memory in huge pages, once
        from .hugepages import collapse_once

        collapse_once()  # (about 0.15 s once, repaid within a submission; a one-off grading does without it)
    prepare({q.id: q.forbidden for q in assignment.questions})  # the forbidden APIs' guards, before forking
    pristine = snapshot()
    report = RunReport()
    budgets = {q.id: q.time_limit for q in assignment.questions}
    used: dict[str, float] = {}
    skip_cells: dict[str, str] = {}  # question -> why its cell is no longer run
    idle_deaths: dict[str, int] = {}  # question -> deaths between its tests
    pending = [c for group in _by_question(cases) for c in group]  # in the order the child runs them
    scratch_root = Path(tempfile.mkdtemp(prefix="grade-"))
    try:
        while pending:
            # on CUDA a child runs one question itself (a fork cannot inherit CUDA), elsewhere all that is left
            remaining = list(_by_question(pending)[0] if device != "cpu" else pending)
            scratch = scratch_root / f"run{report.restarts}"
            from .sandbox import prepare_scratch

            prepare_scratch(scratch)
            left = {q: budgets[q] - used.get(q, 0.0) for q in budgets}
            read_fd, write_fd = os.pipe()
            nonce = secrets.token_hex(16)  # events without it were not written by the runner
            cage = ProcessCage(limits.processes)
            report._marks.clear()
            report._marks["fork"] = time.monotonic()
            pid = os.fork()
            if pid == 0:
                os.close(read_fd)
                _child(write_fd, nonce, cage, sub, remaining, assignment, device, skip_cells, left, limits, scratch,
                       salt, pristine)
            os.close(write_fd)
            blame = _watch(pid, read_fd, nonce, remaining, report, used, left)
            os.close(read_fd)
            status = _stop(pid, finished=blame is None)
            cage.kill_all()  # also what left the process group (setsid, double fork)
            shutil.rmtree(scratch, ignore_errors=True)  # what it wrote (without a private root) goes now
            report._marks["cleaned"] = time.monotonic()
            _timings(report)
            pending = [c for c in pending if c.id not in report.outcomes]
            if blame is None:  # the child said "done", which it may only after every test it was given
                continue
            kind, item, why = blame
            if kind == "refused":
                from .sandbox import Refused

                raise Refused(why)
            lost = report._marks.pop("lost", None)  # how the question's own process ended, when it ended early
            reason = why or _describe_exit(int(lost) if lost is not None else status)
            if kind == "cell":
                skip_cells[item] = report.cell_errors[item] = f"the cell did not finish running: {reason}"
            elif kind == "test":
                report.outcomes[item] = {"id": item, "status": "crashed" if why is None else "timeout",
                                         "message": reason, "obs": [], "seconds": 0.0}
            else:  # died between items or before starting: nothing to blame, do not loop forever
                question = item or pending[0].question
                idle_deaths[question] = idle_deaths.get(question, 0) + 1
                if idle_deaths[question] >= 2 or kind == "startup":
                    for c in pending:
                        if c.question == question:
                            report.outcomes[c.id] = {"id": c.id, "status": "error", "obs": [], "seconds": 0.0,
                                                     "message": f"not run: {reason}"}
            pending = [c for c in pending if c.id not in report.outcomes]
            report.restarts += 1
    finally:
        shutil.rmtree(scratch_root, ignore_errors=True)
    return report


_RUNS = [0]  # submissions this process has run


def _timings(report: RunReport) -> None:
    """Per question that ran to its end: its share of the child's sandbox and module build, the fork of
    its own process, its tests, and what passed from its last test until it was reaped (with its share
    of the child's own end and clean-up)."""
    marks = report._marks
    questions = marks.get("questions", [])
    if "hello" not in marks or "built" not in marks or not questions:
        return
    share = 1 / len(questions)
    previous = marks["built"]
    ending = marks["cleaned"] - marks["done"] if "done" in marks else 0.0  # the child's own end, shared
    for q, begin, last, reaped in questions:
        report.children.append({"question": q, "sandbox": (marks["hello"] - marks["fork"]) * share,
                                "build": (marks["built"] - marks["hello"]) * share, "fork": begin - previous,
                                "tests": last - begin, "teardown": reaped - last + ending * share})
        previous = reaped


def _by_question(cases: list[Case]) -> list[list[Case]]:
    groups: dict[str, list[Case]] = {}
    for c in cases:
        groups.setdefault(c.question, []).append(c)
    return list(groups.values())


MAX_LINE = 8 << 20  # bytes in one event: observations of a test included
MAX_FIELD = 4000  # characters of a message, a name, a note
MAX_OBS = 2000  # observations per test


class Lines:
    """Splits the child's bytes into lines in linear time; a line longer than MAX_LINE is dropped whole."""

    def __init__(self) -> None:
        self.buf = bytearray()
        self.skipping = False  # inside an overlong line: drop up to its newline
        self.overlong = 0

    def feed(self, chunk: bytes) -> list[bytes]:
        out = []
        start = 0
        while True:
            nl = chunk.find(b"\n", start)
            if nl < 0:
                break
            if not self.skipping:
                self.buf += chunk[start:nl]
                out.append(bytes(self.buf))
            self.buf.clear()
            self.skipping = False
            start = nl + 1
        if not self.skipping:
            self.buf += chunk[start:]
            if len(self.buf) > MAX_LINE:
                self.buf.clear()
                self.skipping = True
                self.overlong += 1
        return out


def _clip(value, n: int = MAX_FIELD) -> str:
    text = str(value)
    return text if len(text) <= n else text[:n] + " [...]"


def _end_event(ev: dict, case: Case) -> dict:
    """An ``end`` event reduced to known fields of bounded size."""
    obs = ev.get("obs") if isinstance(ev.get("obs"), list) else []
    clean = []
    for o in obs[:MAX_OBS]:
        if isinstance(o, dict):
            clean.append({"name": _clip(o.get("name"), 200), "value": o.get("value"),
                          "rtol": o.get("rtol"), "atol": o.get("atol")})
    status = ev.get("status") if ev.get("status") in ("passed", "failed", "error", "timeout", "skipped") else "error"
    seconds = ev.get("seconds")
    return {"id": case.id, "status": status, "message": _clip(ev.get("message", "")), "obs": clean,
            "seconds": float(seconds) if isinstance(seconds, (int, float)) else 0.0}


def _watch(pid: int, fd: int, nonce: str, remaining: list[Case], report: RunReport, used: dict[str, float],
           left: dict[str, float]):
    """Consume one child's events. Returns None when it finished, else (kind, item, reason).

    The child must say, in this order: ``hello``, ``cell``/``built``, then for each question in the
    order given ``begin``, for each of its tests ``start`` and ``end``, and ``reaped``; then ``done``.
    Anything else that carries the channel's secret (an event out of order, a test that was not
    started, one that is not next) means graded code forged the channel: the child is stopped and
    the question flagged. Lines without the secret are ignored (and flagged: the runner never
    writes them). A question's process that is reaped before its last test ended died there.
    """
    by_id = {c.id: c for c in remaining}
    lines = Lines()
    current: tuple[str, str] | None = ("startup", "")
    phase = "hello"  # what may come next: hello -> build -> (between -> tests)* -> done
    started = time.monotonic()
    deadline = started + STARTUP
    asked = remaining[0].question if remaining else ""  # the question running (or next)
    begun = last = 0.0
    report._marks["questions"] = []

    def anomaly(what: str):
        report.flag(asked, f"channel anomaly: {what}")
        _kill(pid)
        kind, item = current or ("idle", asked)
        return kind, item, f"{asked}: the grading process reported something it never sends ({what})"

    while True:
        timeout = deadline - time.monotonic()
        if timeout <= 0:
            _kill(pid)
            kind, item = current or ("idle", asked)
            q = by_id[item].question if kind == "test" else item
            why = f"{q}: time limit exceeded" if kind in ("test", "cell") else "the grader timed out starting"
            if kind == "test":
                used[q] = used.get(q, 0.0) + (time.monotonic() - started)
            elif kind == "idle":
                why = f"{asked}: the grading process stopped answering between tests"
            return kind, item, why
        ready, _, _ = select.select([fd], [], [], timeout)
        if not ready:
            continue
        chunk = os.read(fd, 1 << 20)
        if not chunk:  # EOF: the child is gone
            return (*(current or ("idle", asked)), None)
        for line in lines.feed(chunk):
            try:
                ev = json.loads(line)
            except (ValueError, RecursionError):
                ev = None
            if not isinstance(ev, dict) or ev.get("k") != nonce:
                report.flag(asked, "data on the result channel that the runner did not write")
                continue
            kind = ev.get("ev")
            now = time.monotonic()
            if kind == "refused" and phase == "hello":
                return "refused", "", _clip(ev.get("why"))
            if kind == "hello" and phase == "hello":
                report.notes = [_clip(n) for n in (ev.get("notes") or [])[:20]]
                phase = "build"
                report._marks["hello"] = now
            elif kind == "cell" and phase == "build":
                q = _clip(ev.get("q"), 100)
                current, started, deadline = ("cell", q), now, now + min(left.get(q, 60.0), STARTUP) + GRACE
            elif kind == "built" and phase == "build":
                errors = ev.get("errors") if isinstance(ev.get("errors"), dict) else {}
                report.cell_errors.update({_clip(k, 100): _clip(v) for k, v in list(errors.items())[:100]})
                for q in dict.fromkeys(c.question for c in remaining):  # every question's tests see this build
                    for f in (ev.get("flags") or [])[:20]:
                        report.flag(q, _clip(f))
                current, deadline, phase = None, now + STARTUP, "between"
                report._marks["built"] = now
            elif kind == "begin" and phase == "between" and remaining and ev.get("q") == remaining[0].question:
                asked, begun, last, phase, deadline = remaining[0].question, now, now, "tests", now + STARTUP
            elif kind == "start" and phase == "tests" and current is None and remaining \
                    and ev.get("id") == remaining[0].id and remaining[0].question == asked:
                case = remaining[0]
                budget = left.get(case.question, 60.0) - used.get(case.question, 0.0)
                current, started, deadline = ("test", case.id), now, now + max(budget, 0.0) + GRACE
            elif kind == "end" and current is not None and current[0] == "test" and ev.get("id") == current[1]:
                case = by_id.pop(current[1])
                used[case.question] = used.get(case.question, 0.0) + (now - started)
                report.outcomes[case.id] = _end_event(ev, case)
                for f in (ev.get("flags") or [])[:20]:
                    report.flag(case.question, _clip(f))
                remaining.remove(case)
                current, deadline, last = None, now + STARTUP, now
            elif kind == "reaped" and phase == "tests" and ev.get("q") == asked:
                status = ev.get("status")
                if current is not None or (remaining and remaining[0].question == asked):  # it died early
                    report._marks["lost"] = status if isinstance(status, int) and 0 <= status < 1 << 16 else 0
                    _kill(pid)
                    return (*(current or ("idle", asked)), None)
                report._marks["questions"].append((asked, begun, last, now))
                phase, deadline = "between", now + STARTUP
                asked = remaining[0].question if remaining else asked
            elif kind == "done" and phase == "between" and current is None and not remaining:
                report._marks["done"] = now
                return None
            else:
                return anomaly(f"{_clip(kind, 40)!s} event out of order")
        if lines.overlong:
            lines.overlong = 0
            report.flag(asked, "an event larger than the channel allows")

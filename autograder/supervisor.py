"""The parent side of grading: fork a sandboxed child per question of a submission, read its events, survive it.

The child streams JSON lines (``cell``, ``built``, ``start``, ``end``, ``done``). If it dies or
overruns a deadline, the parent kills its whole process group, blames the cell or test that
was running, and forks a fresh child for what is left. The parent never imports student code
and never runs a torch operation, so forking it stays safe (see ENGINE_FACTS.md).
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

# Imported once in the warm parent so that no child pays for them (torch.optim imports
# torch._dynamo on the first optimizer, about a second). Imports only: no torch op runs here.
WARM_MODULES = ("numpy.random", "torch.nn.functional", "torch.optim", "torch._dynamo", "torch.linalg",
                "shared", "shared.models", "_pytest.outcomes", "autograder.guard", "autograder.runner")
GRACE = 2.0  # seconds past a soft deadline before the child is killed
STARTUP = 60.0  # seconds the child may take to start and build the module (CUDA init included)


@dataclass
class RunReport:
    outcomes: dict[str, dict] = field(default_factory=dict)  # case id -> end event
    cell_errors: dict[str, str] = field(default_factory=dict)  # question -> why its cell did not run
    notes: list[str] = field(default_factory=list)  # what the sandbox could not apply
    flags: dict[str, list[str]] = field(default_factory=dict)  # question -> integrity flags (instructors only)
    restarts: int = 0
    # one per child, in seconds: fork to hello (sandbox), to module built (build), to done (the tests' own
    # time), to reaped and cleaned up (teardown); what `make bench` reports as the per-question overhead
    children: list[dict] = field(default_factory=list)
    _marks: dict[str, float] = field(default_factory=dict)

    def flag(self, question: str, what: str) -> None:
        found = self.flags.setdefault(question, [])
        if what not in found and len(found) < 50:
            found.append(what)


@functools.cache
def warm_up(solution: Path | None = None) -> None:
    """Import, once per grader process, what every child would otherwise import itself.

    Besides WARM_MODULES, the import-only cells of the (trusted) reference solution run here,
    so a student's ``import matplotlib.pyplot as plt`` costs the child nothing.
    """
    os.environ.setdefault("MPLBACKEND", "Agg")
    for name in WARM_MODULES:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    if solution is not None and solution.exists():
        from .notebook import read_submission

        for cell in read_submission(solution).imports:
            with contextlib.suppress(Exception):
                exec(compile(cell.source, str(solution), "exec"), {})


def snapshot():
    """The libraries' attributes as they are now, in the grader, which never runs student code (see
    ``pristine``). Taken for every submission: the grader's own libraries may change state between
    two submissions (pytest's assertion hooks, ``time.tzname``), and that is not the submission's doing."""
    from .pristine import Pristine

    return Pristine()


def _child(write_fd: int, nonce: str, cage: ProcessCage, sub: Submission, cases: list[Case],
           assignment: Assignment, device: str, skip_cells: dict[str, str], budgets: dict[str, float],
           limits: Limits, scratch: Path, salt: str, pristine) -> None:
    """Runs in the forked child; never returns."""
    code = 0
    try:
        cage.join()  # first, before anything the submission could fork from
        import torch

        torch.set_num_threads(1)
        from . import sandbox
        from .notebook import build_module
        from .runner import run_cases

        dumps, write = json.dumps, os.write  # bound now: a submission may replace them later

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
            notes = sandbox.enter(scratch, limits, device, keep_fd=write_fd)
        except sandbox.Refused as e:
            emit({"ev": "refused", "why": str(e)})
            return
        if cage.path is None:
            notes.append(f"processes not caged: a fork bomb is limited only by RLIMIT_NPROC, which root "
                         f"ignores, and escaped background processes may survive ({cage.why})")
        from .guard import install

        drain = install()  # from here on, untrusted code cannot reach frames, gc lists, ctypes or /proc/*/mem
        from .policy import guard_dispatch

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
        flags = drain() + replaced
        emit({"ev": "built", "errors": dict(mod._errors), "flags": flags})
        run_cases(cases, mod, dev, forbidden=forbidden, budgets=budgets, emit=emit, pristine=pristine, drain=drain,
                  salt=salt)
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
    deadline = time.monotonic() + (1.0 if waiter or finished else 0.0)
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        time.sleep(0.005)
    _kill(pid)
    return os.waitpid(pid, 0)[1]


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
    """Run ``cases`` against ``sub`` in sandboxed children; return what they reported."""
    limits = limits or Limits(memory_mb=assignment.memory_mb)
    limits_cpu = sum(q.time_limit for q in assignment.graded) + STARTUP
    limits = Limits(**{**limits.__dict__, "cpu_seconds": int(min(limits.cpu_seconds, limits_cpu))})
    warm_up(assignment.solution_path)
    prepare({q.id: q.forbidden for q in assignment.questions})  # the forbidden APIs' guards, before forking
    pristine = snapshot()
    report = RunReport()
    budgets = {q.id: q.time_limit for q in assignment.questions}
    used: dict[str, float] = {}
    skip_cells: dict[str, str] = {}  # question -> why its cell is no longer run
    scratch_root = Path(tempfile.mkdtemp(prefix="grade-"))
    try:
        for question_cases in _by_question(cases):  # one child per question: no state carries over
            remaining = list(question_cases)
            idle_deaths = 0
            while remaining:
                scratch = scratch_root / f"run{report.restarts}"
                from .sandbox import prepare_scratch

                prepare_scratch(scratch)
                left = {q: budgets[q] - used.get(q, 0.0) for q in budgets}
                read_fd, write_fd = os.pipe()
                nonce = secrets.token_hex(16)  # events without it were not written by the runner
                cage = ProcessCage(limits.processes)
                report._marks.clear()
                forked = time.monotonic()
                pid = os.fork()
                if pid == 0:
                    os.close(read_fd)
                    _child(write_fd, nonce, cage, sub, remaining, assignment, device, skip_cells, left, limits, scratch,
                           salt, pristine)
                os.close(write_fd)
                blame = _watch(pid, read_fd, nonce, remaining, report, used, left, remaining[0].question)
                os.close(read_fd)
                status = _stop(pid, finished=blame is None)
                cage.kill_all()  # also what left the process group (setsid, double fork)
                shutil.rmtree(scratch, ignore_errors=True)  # what it wrote (without a private root) goes now
                hello, built, done = (report._marks.get(k) for k in ("hello", "built", "done"))
                if hello is not None and built is not None and done is not None:
                    report.children.append({"question": question_cases[0].question, "sandbox": hello - forked,
                                            "build": built - hello, "tests": done - built,
                                            "teardown": time.monotonic() - done})
                if blame is None:
                    if not remaining:
                        break
                    blame = ("idle", "", "the grading process stopped before running every test")
                kind, item, why = blame
                if kind == "refused":
                    from .sandbox import Refused

                    raise Refused(why)
                reason = why or _describe_exit(status)
                if kind == "cell":
                    skip_cells[item] = report.cell_errors[item] = f"the cell did not finish running: {reason}"
                elif kind == "test":
                    report.outcomes[item] = {"id": item, "status": "crashed" if why is None else "timeout",
                                             "message": reason, "obs": [], "seconds": 0.0}
                    remaining = [c for c in remaining if c.id != item]
                else:  # died between items or before starting: nothing to blame, do not loop forever
                    idle_deaths += 1
                    if idle_deaths >= 2 or kind == "startup":
                        for c in remaining:
                            report.outcomes[c.id] = {"id": c.id, "status": "error", "obs": [], "seconds": 0.0,
                                                     "message": f"not run: {reason}"}
                        remaining = []
                report.restarts += 1
    finally:
        shutil.rmtree(scratch_root, ignore_errors=True)
    return report


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
           left: dict[str, float], question: str):
    """Consume one child's events. Returns None when it finished, else (kind, item, reason).

    The child must say, in this order: ``hello``, ``cell``/``built``, then for each test in the
    order given ``start`` and ``end``, then ``done``. Anything else that carries the channel's
    secret (an event out of order, a test that was not started, one that is not next) means
    graded code forged the channel: the child is stopped and the question flagged. Lines
    without the secret are ignored (and flagged: the runner never writes them).
    """
    by_id = {c.id: c for c in remaining}
    lines = Lines()
    current: tuple[str, str] | None = ("startup", "")
    phase = "hello"  # what may come next: hello -> build -> tests -> (done)
    started = time.monotonic()
    deadline = started + STARTUP

    def anomaly(what: str):
        report.flag(question, f"channel anomaly: {what}")
        _kill(pid)
        kind, item = current or ("idle", "")
        return kind, item, f"{question}: the grading process reported something it never sends ({what})"

    while True:
        timeout = deadline - time.monotonic()
        if timeout <= 0:
            _kill(pid)
            kind, item = current
            q = by_id[item].question if kind == "test" else item
            why = f"{q}: time limit exceeded" if kind in ("test", "cell") else "the grader timed out starting"
            if kind == "test":
                used[q] = used.get(q, 0.0) + (time.monotonic() - started)
            return kind, item, why
        ready, _, _ = select.select([fd], [], [], timeout)
        if not ready:
            continue
        chunk = os.read(fd, 1 << 20)
        if not chunk:  # EOF: the child is gone
            return (*current, None) if current else ("idle", "", None)
        for line in lines.feed(chunk):
            try:
                ev = json.loads(line)
            except (ValueError, RecursionError):
                ev = None
            if not isinstance(ev, dict) or ev.get("k") != nonce:
                report.flag(question, "data on the result channel that the runner did not write")
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
                for f in (ev.get("flags") or [])[:20]:
                    report.flag(question, _clip(f))
                current, deadline, phase = None, now + STARTUP, "tests"
                report._marks["built"] = now
            elif kind == "start" and phase == "tests" and current is None and remaining \
                    and ev.get("id") == remaining[0].id:
                case = remaining[0]
                budget = left.get(case.question, 60.0) - used.get(case.question, 0.0)
                current, started, deadline = ("test", case.id), now, now + max(budget, 0.0) + GRACE
            elif kind == "end" and current is not None and current[0] == "test" and ev.get("id") == current[1]:
                case = by_id.pop(current[1])
                used[case.question] = used.get(case.question, 0.0) + (now - started)
                report.outcomes[case.id] = _end_event(ev, case)
                for f in (ev.get("flags") or [])[:20]:
                    report.flag(question, _clip(f))
                remaining.remove(case)
                current, deadline = None, now + STARTUP
            elif kind == "done" and phase == "tests" and current is None and not remaining:
                report._marks["done"] = now
                return None
            else:
                return anomaly(f"{_clip(kind, 40)!s} event out of order")
        if lines.overlong:
            lines.overlong = 0
            report.flag(question, "an event larger than the channel allows")

"""Running test cases against a built module; used in the sandboxed child and by ``check()``.

Each case yields one plain-data event: its status, a message for the student and the
observations it recorded. Nothing here decides a score: the parent judges observations.
"""

from __future__ import annotations

import contextlib
import re
import signal
import threading
import time
import traceback
from collections.abc import Callable

import torch

from .collect import FIXTURES, Case
from .observations import encode
from .policy import ForbiddenAPIError, forbid, refusals
from .testing import _RUN

ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


class TimeLimit(BaseException):
    """Raised by the alarm; a BaseException so a student's ``except Exception`` cannot swallow it."""


class Observer:
    """The ``observe`` fixture: records values for the parent to judge."""

    def __init__(self) -> None:
        self.records: list[dict] = []

    def __call__(self, name: str, value, rtol: float | None = None, atol: float | None = None) -> None:
        self.records.append({"name": str(name), "value": encode(value),
                             "rtol": None if rtol is None else float(rtol),
                             "atol": None if atol is None else float(atol)})


@contextlib.contextmanager
def alarm(seconds: float | None):
    """Interrupt Python code after ``seconds`` (main thread only; the parent has the hard limit)."""
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_alarm(signum, frame):
        raise TimeLimit()

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 0.01))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _student_frames(e: BaseException) -> str:
    """The innermost lines of the traceback that are in notebook cells (what a student can act on)."""
    frames = [f for f in traceback.extract_tb(e.__traceback__) if f.filename.startswith("<GRADED")]
    if not frames:
        return ""
    f = frames[-1]
    return f" (in {f.filename.strip('<>')} cell, line {f.lineno}: `{(f.line or '').strip()}`)"


def run_case(case: Case, sub, device: torch.device, *, forbidden: tuple[str, ...] = (),
             time_limit: float | None = None, salt: str = "") -> dict:
    """Run one case; never raises (but for the process being killed)."""
    from shared.seed import seed_everything, stable_hash

    observer = Observer()
    seed = stable_hash(salt + case.id)  # salt "" for checks and snapshots; a secret per grading run
    _RUN["seed"] = seed
    seed_everything(seed)
    fixtures = {"sub": sub, "observe": observer, "device": device, "seed": seed,
                "gen": torch.Generator().manual_seed(seed)}
    kwargs = dict(case.kwargs)
    for name in FIXTURES:
        if name in case.func.__code__.co_varnames[: case.func.__code__.co_argcount]:
            kwargs[name] = fixtures[name]
    status, message, forbidden_used = "passed", "", False
    t0 = time.perf_counter()
    try:
        with alarm(time_limit), forbid(forbidden, case.question):
            case.func(**kwargs)
    except TimeLimit:
        status, message = "timeout", f"{case.question}: the time limit of the question ran out during this test"
    except AssertionError as e:  # pytest's explanation may name object addresses: not the same twice
        status, message = "failed", ADDRESS.sub("", str(e) or "an assertion failed") + _student_frames(e)
    except NotImplementedError as e:
        status, message = "failed", f"not implemented yet: {e}" if str(e) else "not implemented yet"
    except ForbiddenAPIError as e:
        status, message, forbidden_used = "failed", str(e), True
    except BaseException as e:  # noqa: BLE001 - student code may raise anything, SystemExit included
        from _pytest.outcomes import OutcomeException, Skipped

        if isinstance(e, Skipped):
            status, message = "skipped", str(e.msg or "")
        elif isinstance(e, OutcomeException):  # pytest.fail, pytest.raises' "DID NOT RAISE"
            status, message = "failed", str(e.msg or "") + _student_frames(e)
        else:
            status, message = "error", f"{type(e).__name__}: {e}{_student_frames(e)}"
    tampered = _RUN.get("seed") != seed  # graded code reset the seed the test's inputs come from
    if tampered:
        status, message = "failed", f"{case.question}: your code changed the seed this test draws its inputs from"
    return {"id": case.id, "status": status, "message": message[:4000], "obs": [] if tampered else observer.records,
            "seconds": round(time.perf_counter() - t0, 4), "forbidden": forbidden_used, "tampered": tampered}


def run_cases(cases: list[Case], sub, device: torch.device, *, forbidden: dict[str, tuple[str, ...]],
              budgets: dict[str, float], emit: Callable[[dict], None], pristine=None,
              drain: Callable[[], list[str]] = list, salt: str = "") -> None:
    """Run cases in order within each question's remaining time budget, emitting start/end events.

    ``pristine`` (a ``Pristine`` snapshot) undoes the submission's monkeypatches before the first test
    and after each test: a test during which graded code replaced part of the libraries the tests rely
    on (pytest's ``raises``, ``torch.allclose``, the engine) fails, since its checks may have been
    disabled. ``drain`` hands over the audit guard's refusals; they, forbidden-API attempts and
    such replacements go to the grader as integrity flags (instructors see them, students do not).
    """
    used: dict[str, float] = {}
    if pristine is not None:
        pristine.restore()  # after each test too: what a test changed reaches no later test
    for case in cases:
        left = budgets.get(case.question, 60.0) - used.get(case.question, 0.0)
        emit({"ev": "start", "id": case.id})
        if left <= 0:
            emit({"ev": "end", "id": case.id, "status": "timeout", "obs": [], "seconds": 0.0, "flags": drain(),
                  "message": f"{case.question}: not run, the question's time limit was used up by earlier tests"})
            continue
        result = run_case(case, sub, device, forbidden=forbidden.get(case.question, ()), time_limit=left, salt=salt)
        used[case.question] = used.get(case.question, 0.0) + result["seconds"]
        flags = drain() + [f"forbidden API: {m[:200]}" for m in refusals()]  # the supervisor drops repeats
        if result.pop("forbidden", False):
            flags.append(f"forbidden API: {result['message'][:200]}")
        if result.pop("tampered", False):
            flags.append("graded code changed the test's seed")
        changed = pristine.restore() if pristine is not None else []
        if changed:
            flags.append("graded code replaced " + ", ".join(changed[:5]) + " while the test ran")
            result.update(status="failed", obs=[], message=(
                f"{case.question}: while this test ran, your code replaced {changed[0]}, part of the libraries the "
                "tests use; graded code may not change them"))
        emit({"ev": "end", **result, "flags": flags})

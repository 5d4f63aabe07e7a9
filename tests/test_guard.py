"""The audit hook that keeps graded code out of the grader's memory (autograder.guard).

The hook cannot be removed once added, so each check runs in a fresh interpreter: code compiled
as a graded cell tries every way in, and ordinary code a student may write must still work.
"""

from __future__ import annotations

import json
import json as json_module
import subprocess
import sys
import textwrap

import pytest

from autograder.guard import trusted_file

PROBE = textwrap.dedent('''
    import json, sys
    from autograder.guard import install
    install()
    CELL = {cell!r}
    g = {{}}
    exec(compile(CELL, "<GRADED: probe>", "exec"), g)
    print(json.dumps(g["RESULT"]))
''')

ATTEMPTS = '''
import gc, inspect, sys, traceback
RESULT = {}
def attempt(name, f):
    try:
        f()
        RESULT[name] = "allowed"
    except Exception as e:
        RESULT[name] = type(e).__name__
def own_traceback_frame():
    try:
        raise ValueError
    except ValueError as e:
        return e.__traceback__.tb_frame
def walk_traceback():
    try:
        raise ValueError
    except ValueError as e:
        return list(traceback.walk_tb(e.__traceback__))
def generator_frame():
    def gen():
        yield 1
    return gen().gi_frame
attempt("sys._getframe", lambda: sys._getframe())
attempt("sys._current_frames", lambda: sys._current_frames())
attempt("inspect.currentframe", lambda: inspect.currentframe())
attempt("inspect.stack", lambda: inspect.stack())
attempt("traceback.walk_stack", lambda: list(traceback.walk_stack(None)))
attempt("traceback.walk_tb", walk_traceback)
attempt("tb_frame", own_traceback_frame)
attempt("gi_frame", generator_frame)
attempt("gc.get_objects", lambda: gc.get_objects())
attempt("gc.get_referrers", lambda: gc.get_referrers(RESULT))
attempt("sys.settrace", lambda: sys.settrace(None))
attempt("sys.setprofile", lambda: sys.setprofile(None))
seen = []
sys.addaudithook(lambda event, args: seen.append(event))  # refused hooks are dropped silently (PEP 578)
open(__import__("os").devnull).close()
RESULT["sys.addaudithook"] = "allowed" if seen else "ForbiddenAPIError"
attempt("/proc/self/mem", lambda: open("/proc/self/mem", "rb"))
attempt("/proc/<parent>/environ", lambda: open(f"/proc/{__import__('os').getppid()}/environ", "rb"))
attempt("ctypes.string_at", lambda: __import__("ctypes").string_at(id(RESULT), 8))
attempt("compile as json.py", lambda: compile("x = 1", sys.modules["json"].__file__, "exec"))
attempt("code.replace as json.py", lambda: (lambda: 0).__code__.replace(co_filename=sys.modules["json"].__file__))
attempt("marshal.loads", lambda: __import__("marshal").loads(__import__("marshal").dumps(1)))
import _imp, importlib.util
def rename(fix=None):
    code = compile("x = 1", "<made>", "exec")
    (fix or _imp._fix_co_filename)(code, sys.modules["json"].__file__)
    if code.co_filename != "<made>":
        return
    raise ValueError("not renamed")
def vault_send():
    gens = [c.cell_contents for c in _imp._fix_co_filename.__closure__ or ()
            if type(c.cell_contents).__name__ == "generator"]
    code = compile("x = 1", "<made>", "exec")
    ok, value = gens[0].send((code, sys.modules["json"].__file__))
    if not ok:
        raise value
def merged_walk():
    import heapq
    return [f for f, _ in heapq.merge(traceback.walk_stack(None))]
def summary_with_locals():
    return [fs.locals for fs in traceback.StackSummary.extract(traceback.walk_stack(None), capture_locals=True)]
def exception_with_locals():
    try:
        raise ValueError
    except ValueError as e:
        return traceback.TracebackException.from_exception(e, capture_locals=True)
def generator_locals():
    def gen():
        yield 1
    g = gen()
    next(g)
    return inspect.getgeneratorlocals(g)
def signal_frame():
    import os, signal
    got = []
    signal.signal(signal.SIGUSR1, lambda s, f: got.append(f))
    os.kill(os.getpid(), signal.SIGUSR1)
    if got[0] is None:
        raise ForbiddenAPIError("no frame handed over")
def fresh_signal():
    saved = sys.modules.pop("_signal")
    try:
        import _signal
    finally:
        sys.modules["_signal"] = saved
def sourceless_pyc():
    import importlib.machinery, marshal, os, tempfile, json
    target = json.__file__
    data = marshal.dumps(compile("import sys\\nF = sys._getframe", "X" * len(target), "exec"))
    path = os.path.join(tempfile.mkdtemp(), "walker.pyc")
    with open(path, "wb") as f:
        f.write(importlib.util.MAGIC_NUMBER + bytes(12) + data.replace(b"X" * len(target), target.encode()))
    loader = importlib.machinery.SourcelessFileLoader("walker", path)
    mod = importlib.util.module_from_spec(importlib.util.spec_from_loader("walker", loader))
    loader.exec_module(mod)
def compile_bytecode_directly():
    import importlib._bootstrap_external as ext, marshal
    return ext._compile_bytecode(marshal.dumps(compile("x = 1", "<made>", "exec")), name="m")
class ForbiddenAPIError(Exception):
    pass
attempt("heapq.merge(walk_stack)", merged_walk)
attempt("StackSummary capture_locals", summary_with_locals)
attempt("TracebackException capture_locals", exception_with_locals)
attempt("inspect.getgeneratorlocals", generator_locals)
attempt("signal handler frame", signal_frame)
attempt("a fresh _signal", fresh_signal)
attempt("sourceless .pyc claiming json.py", sourceless_pyc)
attempt("_compile_bytecode", compile_bytecode_directly)
attempt("gc.set_debug", lambda: gc.set_debug(gc.DEBUG_SAVEALL))
attempt("logging.currentframe", lambda: __import__("logging").currentframe())
attempt("_imp._fix_co_filename", rename)
fresh_imp = lambda: importlib.util.module_from_spec(importlib.util.find_spec("_imp"))
attempt("a fresh _imp", lambda: rename(fresh_imp()._fix_co_filename))
attempt("the vault", vault_send)
'''

ORDINARY = '''
import collections, dataclasses, enum, logging, traceback, typing
import torch
from tqdm.auto import tqdm
RESULT = {}
@dataclasses.dataclass
class Point:
    x: int = 1
class Color(enum.Enum):
    RED = 1
Pair = collections.namedtuple("Pair", "a b")
T = typing.TypeVar("T")
RESULT["classes"] = [Point(2).x, Color.RED.value, Pair(1, 2).b]
try:
    1 / 0
except ZeroDivisionError:
    RESULT["format_exc"] = "ZeroDivisionError" in traceback.format_exc()
logging.getLogger("probe").warning("a warning with its caller's line")
RESULT["tqdm"] = sum(tqdm(range(4), disable=True))
layer = torch.nn.Linear(3, 2)
layer(torch.ones(4, 3)).sum().backward()
RESULT["torch"] = layer.weight.grad.shape[0]
RESULT["own code"] = (lambda: 0).__code__.co_name
RESULT["compile own source"] = eval(compile("1 + 1", "<string>", "eval"))
RESULT["own /proc"] = open("/proc/self/status").read().startswith("Name:")
import wave  # not imported yet: loads from a .pyc through the guarded importlib helpers
RESULT["lazy import"] = wave.__name__
import io
buffer = io.BytesIO()
torch.save(torch.ones(2), buffer)  # lazily imports torch modules that read frames for themselves
RESULT["torch.save"] = buffer.tell() > 0
RESULT["format_stack"] = "GRADED: probe" in "".join(traceback.format_stack())
class Base(typing.NamedTuple):
    a: int
RESULT["typing.NamedTuple"] = Base(3).a
import signal, os
got = []
signal.signal(signal.SIGUSR1, lambda s, f: got.append(s))
os.kill(os.getpid(), signal.SIGUSR1)
RESULT["signal handler"] = got == [signal.SIGUSR1]
'''


def _probe(cell: str) -> dict:
    out = subprocess.run([sys.executable, "-c", PROBE.format(cell=cell)], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_graded_code_cannot_reach_frames_objects_or_memory():
    result = _probe(ATTEMPTS)
    allowed = [name for name, verdict in result.items() if verdict != "ForbiddenAPIError"]
    assert not allowed, f"graded code got through: {allowed}"


def test_ordinary_student_code_still_works():
    assert _probe(ORDINARY) == {"classes": [2, 1, 2], "format_exc": True, "tqdm": 6, "torch": 2,
                                "own code": "<lambda>", "compile own source": 2, "own /proc": True,
                                "lazy import": "wave", "torch.save": True, "format_stack": True,
                                "typing.NamedTuple": 3, "signal handler": True}


def test_trusted_files():
    assert trusted_file(json_module.__file__)  # the standard library
    assert trusted_file(pytest.__file__)  # site-packages
    assert trusted_file(trusted_file.__code__.co_filename)  # the engine
    assert trusted_file("<frozen importlib._bootstrap>")
    for untrusted in ("<GRADED: adam>", "/tmp/ipykernel_1/123.py", "/tmp/grade-x/run0/helper.py", "relative.py",
                      "<string>"):
        assert not trusted_file(untrusted), untrusted


def test_every_event_the_hook_judges_passes_its_first_filter():
    """The hook returns at once on events outside ``JUDGED_EVENTS`` (thousands per test); an event that
    ``verdict`` compares against but the filter lets go would never be judged."""
    import ast
    import inspect

    from autograder import guard

    tree = ast.parse(textwrap.dedent(inspect.getsource(guard.install)))
    verdict = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "verdict")
    named = set()
    for node in ast.walk(verdict):
        if isinstance(node, ast.Compare) and isinstance(node.left, ast.Name) and node.left.id == "event":
            for right in node.comparators:
                for const in ast.walk(right):
                    if isinstance(const, ast.Constant) and isinstance(const.value, str):
                        named.add(const.value)
    assert {"open", "exec", "sys._getframe", "ctypes.dlopen"} <= named  # the walk found verdict's comparisons
    assert {e for e in named if not e.startswith("ctypes.")} - {"object.__getattr__"} <= guard.JUDGED_EVENTS
    assert guard.INTROSPECTION <= guard.JUDGED_EVENTS

"""Forbidden APIs guarded as objects, the caller rule, second copies, and graded-cell ids (autograder.policy)."""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import textwrap
import threading

import pytest
import torch

from autograder.api import grade
from autograder.guard import TRUSTED_FILES
from autograder.notebook import Cell, build_module, submission_from_cells
from autograder.policy import (
    ForbiddenAPIError,
    answers_of,
    borrowed,
    forbid,
    refusals,
    responsible_frame,
    static_violations,
)

TRUSTED_FILES.add(__file__)  # this file calls forbidden APIs as a test would; collect() registers those


def student(source: str, **names) -> dict:
    """Run ``source`` as a graded cell would be run (untrusted code); return its namespace."""
    ns = {"torch": torch, "__name__": "submission", **names}
    exec(compile(textwrap.dedent(source), "<GRADED: q>", "exec"), ns)
    return ns


def sgd_adds(sgd_class, a, b):
    p = torch.nn.Parameter(a.clone())
    p.grad = -b
    sgd_class([p], lr=1.0).step()
    return p.detach()


_untrusted_sgd_adds = student("""
def sgd_adds(sgd_class, a, b):
    p = torch.nn.Parameter(a.clone())
    p.grad = -b
    sgd_class([p], lr=1.0).step()
    return p.detach()
""")["sgd_adds"]


def ns_call(cls, a, b):
    """``sgd_adds`` run as graded code (so the caller the guard sees is untrusted)."""
    return _untrusted_sgd_adds(cls, a, b)


ROUTES = """
import pkgutil, functools, torch
def by_subclasses():
    return next(c for c in torch.optim.Optimizer.__subclasses__() if c.__name__ == "SGD")
def by_resolve_name():
    return pkgutil.resolve_name("torch.optim:SGD")
def subclass():
    class Mine(torch.optim.SGD):
        pass
def without_init(p):
    opt = object.__new__(torch.optim.SGD)
    torch.optim.Optimizer.__init__(opt, [p], dict(lr=1.0, momentum=0, dampening=0, weight_decay=0, nesterov=False,
                                                 maximize=False, foreach=None, differentiable=False, fused=None))
    opt.step()
def functional(a, b):
    step = pkgutil.resolve_name("torch.optim._functional.sgd")
    step([a], [b], [None], lr=1.0, weight_decay=0.0, momentum=0.0, dampening=0.0, nesterov=False, maximize=False)
"""


def test_a_forbidden_class_refuses_untrusted_callers_by_every_route():
    ns = student(ROUTES)
    a, b = torch.arange(3.0), torch.ones(3)
    before = dict(vars(torch.optim.SGD))
    with forbid(("torch.optim.SGD", "torch.optim.sgd"), "q"):
        for route in ("by_subclasses", "by_resolve_name"):
            cls = ns[route]()
            assert cls is torch.optim.SGD  # the class itself is reached ...
            with pytest.raises(ForbiddenAPIError, match="q: torch.optim"):
                ns_call(cls, a, b)
        with pytest.raises(ForbiddenAPIError):
            ns["subclass"]()
        p = torch.nn.Parameter(a.clone())
        p.grad = -b
        with pytest.raises(ForbiddenAPIError):
            ns["without_init"](p)
        with pytest.raises(ForbiddenAPIError):
            ns["functional"](a.clone(), b)
        assert torch.equal(sgd_adds(torch.optim.SGD, a, b), a + b)  # ... and still serves this (trusted) test
    assert dict(vars(torch.optim.SGD)) == before
    ns["subclass"]()
    assert torch.equal(ns_call(ns["by_subclasses"](), a, b), a + b)


def test_a_forbidden_function_is_replaced_wherever_a_module_holds_it():
    import torch.optim._functional as functional
    import torch.optim.sgd as sgd_module

    original = sgd_module.sgd
    assert functional.sgd is original
    with forbid(("torch.optim.sgd",), "q"):
        assert functional.sgd is not original and sgd_module.sgd is functional.sgd
        assert sys.modules["torch.optim.sgd"] is not sgd_module  # the module itself is a stub
        with pytest.raises(ForbiddenAPIError):
            student("import torch.optim._functional as F\ndef f(ps, gs):\n    F.sgd(ps, gs, [None], lr=1.0, "
                    "weight_decay=0.0, momentum=0.0, dampening=0.0, nesterov=False, maximize=False)\n")["f"](
                [torch.zeros(2)], [torch.ones(2)])
    assert functional.sgd is original and sys.modules["torch.optim.sgd"] is sgd_module


def trusted_stand_in(a, b):
    return torch.add(a, b)




def test_the_responsible_frame_decides():
    """A library wrapper called by graded code is refused; a test's stand-in called by graded code is not.
    (The cell runs inside the window, as graded cells run inside ``building``: ``plus`` wraps the guard.)"""
    one = torch.ones(2)
    with forbid(("torch.add",), "q"):
        ns = student("""
            import functools
            plus = functools.singledispatch(torch.add)
            def via_wrapper(a, b):
                return plus(a, b)
            def via_stand_in(a, b):
                return stand_in(a, b)

            def via_map(a, b):
                return list(map(torch.add, [a], [b]))
            """, stand_in=trusted_stand_in)
        for name in ("via_wrapper", "via_map"):
            with pytest.raises(ForbiddenAPIError, match="q: torch.add may not be used"):
                ns[name](one, one)
        assert torch.equal(ns["via_stand_in"](one, one), 2 * one)
        assert torch.equal(ns["plus"](one, one), 2 * one)  # this test calls the wrapper: trusted
        errors, old = [], threading.excepthook
        threading.excepthook = lambda args: errors.append(args.exc_type)
        try:  # a thread running torch.add itself: only library frames, no responsible frame at all
            t = threading.Thread(target=torch.add, args=(one, one))
            t.start()
            t.join()
        finally:
            threading.excepthook = old
        assert errors == [ForbiddenAPIError]
    assert responsible_frame() == (__file__, True)
    who = student("def who():\n    return responsible_frame()\n", responsible_frame=responsible_frame)["who"]
    file, trusted = who()
    assert (file, trusted) == ("<GRADED: q>", False)


def test_what_a_cell_takes_while_building_stays_guarded():
    """Another question's cell may use an API (it is not forbidden there), but what it keeps is a guard."""
    cells = [Cell("code", "import torch\nfrom torch import add as kept_by_import", 0),
             Cell("code", "# GRADED: p\nkept = torch.add\nclass Sub(torch.optim.SGD):\n    pass\n", 1),
             Cell("code", "# GRADED: q\ndef f(a, b):\n    return globals()['kept'](a, b)\n"
                          "def g(a, b):\n    return globals()['kept_by_import'](a, b)\n", 2)]
    forbidden = {"p": (), "q": ("torch.add", "torch.optim.SGD")}
    mod = build_module(submission_from_cells(cells), {"f": "q", "g": "q", "Sub": "p"}, forbidden=forbidden)
    assert not mod._errors, mod._errors
    one = torch.ones(1)
    with forbid(forbidden["q"], "q"):
        for name in ("f", "g"):
            with pytest.raises(ForbiddenAPIError):
                getattr(mod, name)(one, one)
        with pytest.raises(ForbiddenAPIError):
            ns_call(mod.Sub, one, one)
    assert mod.f(one, one).item() == 2.0  # outside q's window the API is allowed
    assert torch.add is mod.kept or mod.kept(one, one).item() == 2.0


def test_an_answer_that_is_the_forbidden_api_is_found():
    answers = answers_of(("torch.add", "torch.optim.SGD"))
    ns = student("""
        import functools
        def honest(a, b):
            return a + b
        class Honest(torch.optim.Optimizer):
            def step(self):
                pass
        class Derived(torch.optim.SGD):
            pass
        class Borrows(torch.optim.Optimizer):
            step = torch.optim.SGD.step
        def closes_over(f=torch.add):
            return f
        """)
    assert borrowed(torch.add, answers) == "torch.add"
    assert borrowed(functools.singledispatch(torch.add), answers) == "torch.add"
    assert borrowed(functools.partial(torch.add, alpha=1), answers) == "torch.add"
    assert borrowed(ns["Derived"], answers) == "torch.optim.SGD"
    assert borrowed(ns["Borrows"], answers) == "torch.optim.SGD"
    assert borrowed(ns["closes_over"], answers) == "torch.add"
    assert borrowed(ns["honest"], answers) is None and borrowed(ns["Honest"], answers) is None


def test_import_cells_are_scanned_and_hits_attributed_fairly():
    cells = [Cell("code", "import torch\nfrom torch.optim import SGD, AdamW, Adam", 0),
             Cell("code", "# GRADED: sgd\nclass SGD(torch.optim.Optimizer):\n    pass\n", 1),
             Cell("code", "# GRADED: adam\nx = 1\n", 2),
             Cell("code", "# GRADED: mup\ndef groups(m):\n    return AdamW(m.parameters())\n", 3)]
    forbidden = {"sgd": ("torch.optim.SGD",), "adam": ("torch.optim.Adam", "torch.optim.AdamW"), "mup": ()}
    owners = {"SGD": "sgd", "Adam": "adam", "groups": "mup"}
    found = static_violations(submission_from_cells(cells), forbidden, owners)
    # sgd defines its own SGD; mup may use AdamW; adam's required `Adam` is torch's, bound by the import cell
    assert set(found) == {"adam"} and "binds `Adam` to torch.optim.Adam" in found["adam"]
    cells[0] = Cell("code", "import torch\nfrom torch.utils._python_dispatch import TorchDispatchMode", 0)
    found = static_violations(submission_from_cells(cells), forbidden, owners)
    assert set(found) == {"sgd", "adam", "mup"} and "torch.utils._python_dispatch" in found["mup"]


@pytest.mark.parametrize("head, why", [
    ("adаm", "'а' (CYRILLIC SMALL LETTER A)"),
    ("ad\N{LATIN SMALL LETTER D WITH STROKE}m", "LATIN SMALL LETTER D WITH STROKE"),
    ("adam (mine)", "is not a question id"),
])
def test_a_malformed_graded_id_is_not_run_and_explained(head, why):
    cells = [Cell("code", f"# GRADED: {head}\nimport torch.optim\n", 4), Cell("code", "# GRADED: sgd\nx = 1", 5)]
    sub = submission_from_cells(cells)
    assert list(sub.graded) == ["sgd"] and sub.imports == []  # not an import cell either
    sub.keep_only(["sgd", "adam"])
    assert any(why in w and "(cell 5)" in w and "was not run" in w for w in sub.warnings), sub.warnings
    assert "the graded ids of this assignment are: sgd, adam" in sub.warnings


def test_an_unknown_graded_id_is_not_run():
    cells = [Cell("code", "# GRADED: helpers\nimport torch\nRAN = True\n", 0), Cell("code", "# GRADED: a\nx = 1", 1)]
    sub = submission_from_cells(cells)
    mod = build_module(sub, {"x": "a"}, forbidden={"a": ()})
    assert "RAN" not in mod.__dict__ and "names no question" in mod._errors["helpers"]
    sub.keep_only(["a"])
    assert list(sub.graded) == ["a"] and "`# GRADED: helpers` (cell 1) names no autograded question" in sub.warnings[0]


SECOND_COPY = textwrap.dedent('''
    import importlib, importlib.util, json, os, sys
    import torch, torch.optim
    from autograder.guard import TRUSTED_FILES
    from autograder.notebook import Cell, build_module, submission_from_cells
    TRUSTED_FILES.add(__file__)  # this probe reads the file as a test may
    sgd_file = sys.modules["torch.optim.sgd"].__file__
    pyc = importlib.util.cache_from_source(sgd_file)
    CELL = """# GRADED: p
    import importlib, importlib.util, marshal, os, sys
    RESULT = {}
    def attempt(name, f):
        try:
            f()
            RESULT[name] = "allowed"
        except Exception as e:
            RESULT[name] = type(e).__name__
    def load():
        spec = importlib.util.spec_from_file_location("copy_of_sgd", SGD_FILE)
        spec.loader.exec_module(importlib.util.module_from_spec(spec))
    attempt("spec_from_file_location", load)
    attempt("open", lambda: open(SGD_FILE).read())
    attempt("relative path", lambda: (os.chdir(os.path.dirname(SGD_FILE)), open("sgd.py").read()))
    attempt("reload", lambda: importlib.reload(sys.modules["torch.optim.sgd"]))
    attempt("pyc", lambda: open(PYC, "rb").read())
    attempt("compile a copy", lambda: exec(compile(SOURCE, "<mine>", "exec"), {"__name__": "torch.optim.mine"}))
    attempt("other file", lambda: open(os.path.join(os.path.dirname(SGD_FILE), "adagrad.py")).read())
    """
    source = open(sgd_file).read()
    cells = [Cell("code", CELL.replace("SGD_FILE", repr(sgd_file)).replace("PYC", repr(pyc))
                  .replace("SOURCE", repr(source)), 0)]
    mod = build_module(submission_from_cells(cells), {}, forbidden={"p": (), "q": ("torch.optim.sgd",)})
    assert not mod._errors, mod._errors
    result = dict(mod.RESULT)
    result["trusted reader"] = "allowed" if open(sgd_file).read() == source else "?"
    print(json.dumps(result))
''')


def test_a_second_copy_of_a_forbidden_module_is_refused(tmp_path):
    """Run in a fresh interpreter: the audit hook cannot be removed once added."""
    probe = tmp_path / "probe.py"
    probe.write_text(SECOND_COPY)
    out = subprocess.run([sys.executable, str(probe)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    refused = {k for k, v in result.items() if v == "ForbiddenAPIError"}
    assert refused == {"spec_from_file_location", "open", "relative path", "reload", "pyc", "compile a copy"}, result
    assert result["other file"] == "allowed" and result["trusted reader"] == "allowed"


def scores(r):
    return {q: s for q, (s, _) in r.questions.items()}


@pytest.mark.parametrize("imports, add, expected", [
    # the import cell answers `add` with torch.add itself; the graded cell is empty
    ("import torch\nfrom torch import add", "# GRADED: add\npass\n", 0.0),
    # the import cell keeps torch.add under another name, used where the scan cannot see it
    ("import torch\nfrom torch import add as plus",
     "# GRADED: add\ndef add(a, b):\n    return globals()['plus'](a, b)\n", 0.0),
    # honest: an import of what `add` forbids, unused, costs nothing
    ("import torch\nfrom torch import add as plus\nfrom torch.optim import SGD", None, 2.0),
])
def test_import_only_cells(toy, toy_notebook, imports, add, expected):
    r = grade(toy, toy_notebook(imports=imports, add=add) if add else toy_notebook(imports=imports))
    assert scores(r) == {"add": expected, "scale": 3.0}, r.table()


def test_a_homoglyph_cell_is_reported_to_the_student(toy, toy_notebook):
    cell = "# GRADED: аdd\ndef add(a, b):\n    return a + b\n"
    r = grade(toy, _with_extra(toy_notebook, cell))
    assert scores(r)["add"] == 0.0
    assert any("CYRILLIC SMALL LETTER A" in n for n in r.notes), r.notes
    assert "the graded ids of this assignment are: add, scale" in r.notes


def _with_extra(toy_notebook, cell):
    from conftest import TOY_OK, write_notebook

    path = toy_notebook()
    body = [("code", "import torch"), ("code", cell), ("code", TOY_OK["scale"])]
    return write_notebook(path, body)


def test_refusals_belong_to_the_process_that_made_them():
    """A grading child forked from a process that saw refusals (a test session, a warm worker) reports
    only its own: an honest submission is never flagged for what happened before it was forked."""
    one = torch.ones(2)
    refusals()
    with forbid(("torch.add",), "q"):
        with pytest.raises(ForbiddenAPIError):
            student("def f(a):\n    return torch.add(a, a)\n")["f"](one)
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: nothing refused here yet, then one refusal of its own
            mine = [len(refusals())]
            try:
                student("def f(a):\n    return torch.add(a, a)\n")["f"](one)
            except ForbiddenAPIError:
                pass
            mine.append(len(refusals()))
            os.write(write, json.dumps(mine).encode())
            os._exit(0)
        os.close(write)
        os.waitpid(pid, 0)
        assert json.loads(os.read(read, 100)) == [0, 1]
        os.close(read)
    assert refusals() == ["q: torch.add may not be used in this question; implement it yourself"]

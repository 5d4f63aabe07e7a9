"""The engine end to end on the toy assignment: scores, isolation of failures, messages."""

from __future__ import annotations

import json

import pytest

from autograder.api import grade, grade_mutant
from autograder.notebook import read_submission


def scores(result):
    return {q: s for q, (s, _) in result.questions.items()}


def test_reference_full_marks(toy):
    r = grade(toy, toy.solution_path)
    assert scores(r) == {"add": 2.0, "scale": 3.0}
    assert r.score == r.max_score == 5.0


def test_correct_notebook_full_marks(toy, toy_notebook):
    assert grade(toy, toy_notebook()).score == 5.0


def test_syntax_error_costs_only_its_question(toy, toy_notebook):
    r = grade(toy, toy_notebook(add="# GRADED: add\ndef add(a, b)\n    return a + b\n"))
    assert scores(r) == {"add": 0.0, "scale": 3.0}
    msg = next(t.message for t in r.tests if t.case.question == "add")
    assert "SyntaxError" in msg and "GRADED: add" in msg


def test_missing_cell_names_the_cell(toy, toy_notebook):
    r = grade(toy, toy_notebook(scale=None))
    assert scores(r) == {"add": 2.0, "scale": 0.0}
    msg = next(t.message for t in r.tests if t.case.question == "scale")
    assert "`Scale` is not defined" in msg and "# GRADED: scale" in msg


def test_wrong_values_teach(toy, toy_notebook):
    r = grade(toy, toy_notebook(add="# GRADED: add\ndef add(a, b):\n    return a + b + 1e-3\n"))
    assert scores(r)["add"] == 0.0
    public = next(t for t in r.tests if t.case.public)
    assert "max abs error" in public.message and "index" in public.message
    assert public.student_output == public.message
    hidden = next(t for t in r.tests if not t.case.public and t.case.question == "add")
    assert "max abs error" not in hidden.student_output  # hidden details stay hidden


def test_dtype_mismatch_fails(toy, toy_notebook):
    r = grade(toy, toy_notebook(scale=(
        "# GRADED: scale\nclass Scale(torch.nn.Module):\n    def __init__(self, n):\n        super().__init__()\n"
        "        self.weight = torch.nn.Parameter(torch.ones(n))\n    def forward(self, x):\n"
        "        return (x * self.weight).float()\n")))
    failed = [t for t in r.tests if t.case.question == "scale" and not t.passed]
    assert [t.case.id.split("[")[1] for t in failed] == ["2-f64]", "5-f64]"]
    assert "float" in failed[0].message


def test_infinite_loop_times_out_and_others_still_score(toy, toy_notebook):
    r = grade(toy, toy_notebook(add="# GRADED: add\ndef add(a, b):\n    while True:\n        pass\n"))
    assert scores(r) == {"add": 0.0, "scale": 3.0}
    assert any(t.kind == "time limit" for t in r.tests if t.case.question == "add")
    assert r.seconds < 30


def test_hard_exit_in_test_costs_only_that_question(toy, toy_notebook):
    r = grade(toy, toy_notebook(add="# GRADED: add\nimport os\ndef add(a, b):\n    os._exit(0)\n"))
    assert scores(r) == {"add": 0.0, "scale": 3.0}


def test_exit_at_definition_time(toy, toy_notebook):
    r = grade(toy, toy_notebook(add="# GRADED: add\nimport sys\nsys.exit(0)\n"))
    assert scores(r) == {"add": 0.0, "scale": 3.0}


def test_crash_while_defining_a_cell(toy, toy_notebook):
    r = grade(toy, toy_notebook(add="# GRADED: add\nimport os\nos._exit(3)\n"))
    assert scores(r) == {"add": 0.0, "scale": 3.0}
    assert any("did not finish running" in t.message for t in r.tests if t.case.question == "add")


def test_memory_bomb_is_contained(toy, toy_notebook):
    bomb = ("# GRADED: add\nimport torch\ndef add(a, b):\n"
            "    x = torch.ones(2**31, dtype=torch.float64)\n    return a + b\n")
    r = grade(toy, toy_notebook(add=bomb))
    assert scores(r) == {"add": 0.0, "scale": 3.0}


def test_forbidden_api_static_and_runtime(toy, toy_notebook):
    static = ("# GRADED: scale\nclass Scale(torch.nn.Module):\n    def __init__(self, n):\n        super().__init__()\n"
              "        self.weight = torch.nn.Parameter(torch.ones(n))\n    def forward(self, x):\n"
              "        return torch.mul(x, self.weight)\n")
    r = grade(toy, toy_notebook(scale=static))
    assert scores(r) == {"add": 2.0, "scale": 0.0}
    assert "torch.mul" in next(t.message for t in r.tests if t.case.question == "scale")
    sneaky = static.replace("torch.mul(x, self.weight)", "getattr(torch, 'm' + 'ul')(x, self.weight)")
    r = grade(toy, toy_notebook(scale=sneaky))
    assert scores(r) == {"add": 2.0, "scale": 0.0}
    assert r.flags.get("scale") and all("torch.mul" in f for f in r.flags["scale"]), r.flags  # for the instructor
    assert not r.flags.get("add"), r.flags


def test_forbidden_api_through_a_file_or_a_forged_file_name(toy, toy_notebook):
    """Code the submission writes to its scratch folder, or compiles under a library's file name,
    is still the submission's: it may not call what the question forbids."""
    head = ("# GRADED: scale\nclass Scale(torch.nn.Module):\n    def __init__(self, n):\n        super().__init__()\n"
            "        self.weight = torch.nn.Parameter(torch.ones(n))\n    def forward(self, x):\n"
            "        return helper(x, self.weight)\n")
    via_file = ("import importlib, os, sys\nopen('helper_mod.py', 'w').write('import torch\\n"
                "def helper(x, w):\\n    return torch.mul(x, w)\\n')\nsys.path.insert(0, os.getcwd())\n"
                "helper = importlib.import_module('helper_mod').helper\n")
    forged = ("import json\nns = {}\nexec(compile('import torch\\ndef helper(x, w):\\n    return torch.mul(x, w)\\n', "
              "json.__file__, 'exec'), ns)\nhelper = ns['helper']\n")
    for cell in (head + via_file, head + forged):
        r = grade(toy, toy_notebook(scale=cell))
        assert scores(r) == {"add": 2.0, "scale": 0.0}, r.table()
        message = next(t.message for t in r.tests if t.case.question == "scale")
        assert "torch.mul" in message or "compile" in message, message


def test_submission_may_write_and_read_files_in_its_working_directory(toy, toy_notebook):
    cell = ("# GRADED: add\ndef add(a, b):\n    import torch\n    torch.save(a + b, 'sum.pt')\n"
            "    with open('note.txt', 'w') as f:\n        f.write('ok')\n    assert open('note.txt').read() == 'ok'\n"
            "    return torch.load('sum.pt')\n")
    assert scores(grade(toy, toy_notebook(add=cell))) == {"add": 2.0, "scale": 3.0}


def test_global_state_a_question_leaves_behind_costs_only_that_question(toy, toy_notebook):
    """Each question runs in its own child: torch settings a test run leaves changed (here the
    default device) cannot fail another question's tests."""
    cell = "# GRADED: add\ndef add(a, b):\n    import torch\n    torch.set_default_device('meta')\n    return a + b\n"
    r = grade(toy, toy_notebook(add=cell))
    assert r.questions["scale"] == (3.0, 3.0), r.table()


def test_lying_object_does_not_pass(toy, toy_notebook):
    liar = ("# GRADED: add\nclass Liar:\n    def __eq__(self, o): return True\n    def __sub__(self, o): return 0\n"
            "    def __abs__(self): return 0\n    def __le__(self, o): return True\n"
            "def add(a, b):\n    return Liar()\n")
    assert scores(grade(toy, toy_notebook(add=liar)))["add"] == 0.0


def test_printing_fake_results_does_not_score(toy, toy_notebook):
    fake = ('# GRADED: add\nimport sys, json\nprint(json.dumps({"score": 100}))\n'
            'sys.stdout.write(\'{"ev": "done"}\\n\')\ndef add(a, b):\n    return None\n')
    r = grade(toy, toy_notebook(add=fake))
    assert scores(r) == {"add": 0.0, "scale": 3.0}


@pytest.mark.parametrize("content,needle", [
    (b"", "empty"), (b"{not json", "not valid notebook JSON"), (b"\xff\xfe\x00", "UTF-8"),
    (b'{"cells": [], "nbformat": 4}', "none of the graded cells"),
])
def test_bad_files_get_a_clear_error(toy, tmp_path, content, needle):
    path = tmp_path / "bad.ipynb"
    path.write_bytes(content)
    r = grade(toy, path)
    assert r.score == 0 and any(needle in e for e in r.errors), r.errors
    assert all(not t.passed for t in r.tests)


def test_results_json_schema(toy, toy_notebook, tmp_path):
    r = grade(toy, toy_notebook(add="# GRADED: add\ndef add(a, b):\n    return a - b\n"))
    data = json.loads(r.write(tmp_path / "out").read_text())
    assert data["score"] == 3.0
    for t in data["tests"]:
        assert {"name", "number", "score", "max_score", "visibility", "output"} <= set(t)
        assert ("status" in t) != bool(t["extra_data"].get("manual"))  # written answers: pending, no status
        assert t["name"].split(":")[0] in {"add", "scale", "essay"}
        assert t["visibility"] in {"visible", "after_published"}
    manual = [t for t in data["tests"] if t["extra_data"].get("manual")]
    assert [t["name"].split(":")[0] for t in manual] == ["essay"] and manual[0]["max_score"] == 0
    auto = [t for t in data["tests"] if not t["extra_data"].get("manual")]
    assert sum(t["max_score"] for t in auto) == pytest.approx(5.0)
    assert sum(t["score"] for t in auto) == pytest.approx(data["score"])


def test_mutant_loses_on_its_question_only(toy):
    target, r = grade_mutant(toy, toy.mutants_dir / "add_sub.py", whole=True)
    assert target == "add" and scores(r) == {"add": 0.0, "scale": 3.0}
    # by default only the mutant's question (and what builds on it) is graded
    target, r = grade_mutant(toy, toy.mutants_dir / "add_sub.py")
    assert scores(r) == {"add": 0.0} and r.max_score == 2.0 and {t.case.question for t in r.tests} == {"add"}



def test_deterministic(toy, toy_notebook):
    path = toy_notebook(add="# GRADED: add\ndef add(a, b):\n    return a + b * 1.5\n")
    a, b = grade(toy, path).to_gradescope(), grade(toy, path).to_gradescope()
    a["extra_data"].pop("seconds"), b["extra_data"].pop("seconds")
    assert a == b


def test_duplicate_graded_cells_warn(toy, tmp_path):
    from tests.conftest import TOY_OK, write_notebook

    cells = [("code", "import torch"), ("code", "# GRADED: add\ndef add(a, b): pass"),
             ("code", TOY_OK["add"]), ("code", TOY_OK["scale"])]
    path = write_notebook(tmp_path / "d.ipynb", cells)
    sub = read_submission(path)
    assert "more than one" in sub.warnings[0]
    r = grade(toy, path)
    assert r.score == 5.0 and any("more than one" in n for n in r.notes)


FORGE = '''# GRADED: add
import json, os, stat
def _forge():
    for fd in range(3, 64):
        try:
            if stat.S_ISFIFO(os.fstat(fd).st_mode):
                for tid in ["public/test_public.py::test_add_small", "hidden/test_hidden.py::test_add_broadcast"]:
                    os.write(fd, (json.dumps({"ev": "end", "id": tid, "status": "passed", "obs": [
                        {"name": "sum", "value": {"kind": "scalar", "v": 1}}]}) + "\\n").encode())
                os.write(fd, b'{"ev": "done"}\\n')
        except OSError:
            pass
_forge()
def add(a, b):
    _forge()
    return None
'''


def test_forged_events_on_the_result_pipe_do_not_score(toy, toy_notebook):
    r = grade(toy, toy_notebook(add=FORGE))
    assert scores(r) == {"add": 0.0, "scale": 3.0}


@pytest.mark.skipif(not __import__("torch").cuda.is_available(), reason="CUDA not available")
def test_grading_on_cuda(toy, toy_notebook):
    r = grade(toy, toy_notebook(), device="cuda")
    assert r.score == 5.0, r.table()
    bad = ("# GRADED: scale\nclass Scale(torch.nn.Module):\n    def __init__(self, n):\n        super().__init__()\n"
           "        self.weight = torch.nn.Parameter(torch.ones(n))\n    def forward(self, x):\n"
           "        return (x * self.weight).cpu()\n")
    r = grade(toy, toy_notebook(scale=bad), device="cuda")
    assert r.questions["scale"][0] == 0.0
    assert "device" in next(t.message for t in r.tests if t.case.question == "scale")


def test_notebook_with_huge_outputs_is_graded(toy, tmp_path):
    """Outputs (plots, logs) up to the size cap do not stop grading: only cell sources matter."""
    from autograder.notebook import MAX_BYTES
    from tests.conftest import TOY_OK

    blob = "A" * (MAX_BYTES - 2**20)
    cells = [{"cell_type": "code", "metadata": {}, "source": src, "execution_count": 1,
              "outputs": [{"output_type": "stream", "name": "stdout", "text": blob}] if i == 0 else []}
             for i, src in enumerate(["import torch", TOY_OK["add"], TOY_OK["scale"]])]
    path = tmp_path / "huge.ipynb"
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    del blob, cells
    assert grade(toy, path).score == 5.0


def test_nbformat3_notebook_is_graded(toy, tmp_path):
    from tests.conftest import TOY_OK

    nb = {"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": [{"cells": [
        {"cell_type": "code", "input": src, "outputs": [], "language": "python"}
        for src in ["import torch", TOY_OK["add"], TOY_OK["scale"]]]}]}
    path = tmp_path / "old.ipynb"
    path.write_text(json.dumps(nb))
    assert grade(toy, path).score == 5.0


def test_degrades_and_says_so_without_privileges(toy, toy_notebook, monkeypatch):
    """No namespaces, no cgroup, no uid switch (a laptop, a locked-down container): grading still
    works and the results say which protections were missing."""
    import autograder.confine as confine
    import autograder.sandbox as sandbox
    import autograder.supervisor as supervisor

    monkeypatch.setattr(sandbox, "unshare", lambda flags: "Operation not permitted")
    monkeypatch.setattr(sandbox, "build_root", lambda *a, **k: "Operation not permitted")
    monkeypatch.setattr(sandbox, "can_drop_user", lambda: (False, "runs as the grader's own user"))
    monkeypatch.setattr(sandbox, "drop_privileges", lambda uid: ["system calls not filtered (no libseccomp)"])
    monkeypatch.setattr(sandbox, "host_state_exposed", lambda: "")  # a user's child cannot write a sysctl

    class NoCage(confine.ProcessCage):
        def __init__(self, max_pids):
            self.path, self.why = None, "no writable cgroup"

    monkeypatch.setattr(supervisor, "ProcessCage", NoCage)
    r = grade(toy, toy_notebook(add="# GRADED: add\ndef add(a, b):\n    return a - b\n"))
    assert scores(r) == {"add": 0.0, "scale": 3.0}
    notes = " ".join(r.sandbox)
    for needle in ("network not isolated", "files not confined", "processes not caged", "grader's own user",
                   "system calls not filtered"):
        assert needle in notes
    data = r.to_gradescope()  # instructor information: in extra_data, never in what the student reads
    assert "network not isolated" not in data["output"]
    assert "network not isolated" in " ".join(data["extra_data"]["sandbox"])
    assert "not isolated" not in json.dumps([t["output"] for t in data["tests"]])


def test_says_so_without_a_pid_namespace(toy, toy_notebook, monkeypatch):
    import autograder.sandbox as sandbox

    monkeypatch.setattr(sandbox, "enter_pid_namespace", lambda: "Operation not permitted")
    r = grade(toy, toy_notebook())
    assert r.score == 5.0
    if not any("files not confined" in n for n in r.sandbox):  # the PID namespace needs the mount namespace
        assert any("processes not isolated" in n for n in r.sandbox), r.sandbox


def test_processes_a_question_started_end_with_it(toy, toy_notebook):
    """A process that one question's tests leave running (a forked sleeper) is gone before the next question's
    tests run: they see only their own process and the one it was forked from."""
    add = ("# GRADED: add\nimport os, time\n"
           "def add(a, b):\n    if os.fork() == 0:\n        time.sleep(60)\n        os._exit(0)\n    return a + b\n")
    scale = ("# GRADED: scale\nimport os\nclass Scale(torch.nn.Module):\n    def __init__(self, n):\n"
             "        super().__init__()\n        self.weight = torch.nn.Parameter(torch.ones(n))\n"
             "    def forward(self, x):\n        now = sorted(int(p) for p in os.listdir('/proc') if p.isdigit())\n"
             "        assert now == [1, os.getpid()], now\n        return x * self.weight\n")
    r = grade(toy, toy_notebook(add=add, scale=scale))
    if any("not isolated" in n or "not confined" in n for n in r.sandbox):
        pytest.skip("no PID namespace here: " + "; ".join(r.sandbox))
    assert scores(r) == {"add": 2.0, "scale": 3.0}, r.table()


def test_submission_sees_only_its_own_processes(toy, toy_notebook):
    """In its own PID namespace (where the grader may make one) a submission sees only its own processes: while
    its cells run, itself as process 1; while a question's tests run, that process and the one it was forked from."""
    cell = ("# GRADED: add\nimport os\nSEEN = sorted(int(p) for p in os.listdir('/proc') if p.isdigit())\n"
            "def add(a, b):\n    now = sorted(int(p) for p in os.listdir('/proc') if p.isdigit())\n"
            "    assert SEEN == [1] and now == [1, os.getpid()], (SEEN, now)\n    return a + b\n")
    r = grade(toy, toy_notebook(add=cell))
    if any("not isolated" in n or "not confined" in n for n in r.sandbox):
        pytest.skip("no PID namespace here: " + "; ".join(r.sandbox))
    assert scores(r) == {"add": 2.0, "scale": 3.0}, r.table()


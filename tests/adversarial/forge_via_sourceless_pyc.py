# ATTACK: add
# WHY: bytecode without source whose code object claims json.py's file name, loaded through importlib's
# SourcelessFileLoader, passes as library code and may walk the stack
# %%
# GRADED: add
import importlib.machinery
import importlib.util
import json
import marshal
import os

import torch

def _emit_all(write, nonce):
    """Report both add tests passed with the right values, in the order the runner would."""
    from autograder.observations import encode
    answers = [("public/test_public.py::test_add_small", None),
               ("hidden/test_hidden.py::test_add_broadcast", torch.ones(2, 1) + torch.arange(3.0))]
    first = True
    for tid, value in answers:
        if not first:
            write({"ev": "start", "id": tid, "k": nonce})
        first = False
        obs = [] if value is None else [{"name": "sum", "value": encode(value), "rtol": None, "atol": None}]
        write({"ev": "end", "id": tid, "status": "passed", "message": "", "seconds": 0.0, "obs": obs, "k": nonce})
    write({"ev": "done", "k": nonce})
    os._exit(0)


def _write_to(fd):
    return lambda event: os.write(fd, (json.dumps(event) + "\n").encode())

WALKER = "import sys\ndef frames():\n    f = sys._getframe()\n    out = []\n    while f is not None:\n        out.append(f)\n        f = f.f_back\n    return out\n"


def _forge():
    target = json.__file__
    placeholder = "X" * len(target)
    data = marshal.dumps(compile(WALKER, placeholder, "exec")).replace(placeholder.encode(), target.encode())
    path = os.path.join(os.getcwd(), "walker.pyc")
    with open(path, "wb") as f:
        f.write(importlib.util.MAGIC_NUMBER + bytes(12) + data)
    loader = importlib.machinery.SourcelessFileLoader("walker", path)
    spec = importlib.util.spec_from_loader("walker", loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    for frame in mod.frames():
        loc = frame.f_locals
        if isinstance(loc.get("nonce"), str) and isinstance(loc.get("write_fd"), int):
            _emit_all(_write_to(loc["write_fd"]), loc["nonce"])


def add(a, b):
    try:
        _forge()
    except Exception:
        pass
    return None

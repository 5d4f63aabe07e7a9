# ATTACK: add
# WHY: writes fake "passed" events with made-up observations into every pipe it finds
# %%
# GRADED: add
import json
import os
import stat


def _forge():
    for fd in range(3, 256):
        try:
            if stat.S_ISFIFO(os.fstat(fd).st_mode):
                for tid in ("public/test_public.py::test_add_small", "hidden/test_hidden.py::test_add_broadcast"):
                    event = {"ev": "end", "id": tid, "status": "passed", "seconds": 0.0,
                             "obs": [{"name": "sum", "value": {"kind": "scalar", "v": 1}}]}
                    os.write(fd, (json.dumps(event) + "\n").encode())
                os.write(fd, b'{"ev": "done"}\n')
        except OSError:
            pass


_forge()


def add(a, b):
    _forge()
    return None

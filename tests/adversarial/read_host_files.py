# ATTACK: add
# WHY: looks for the reference solution wherever the grader's user could read it: the repository's git
# history, other checkouts on the machine, the folders the grader's command line names
# %%
# GRADED: add
import glob
import os
import zlib

import torch

NEEDLE = b"# BEGIN SOLUTION\n    return a + b"


def _found() -> bool:
    places = ["{repo}/solutions/toy/toy.py"]
    places += glob.glob("/*/*/tests/fixtures/toyrepo/solutions/toy/toy.py")
    places += glob.glob("/*/*/*/tests/fixtures/toyrepo/solutions/toy/toy.py")
    places += glob.glob("/tmp/*/tests/fixtures/toyrepo/solutions/toy/toy.py")
    try:
        words = open("/proc/self/cmdline", "rb").read().split(b"\0")
        places += [w.decode(errors="ignore") for w in words if w.startswith(b"/")]
    except OSError:
        pass
    for path in places:
        try:
            with open(path, "rb") as f:
                if NEEDLE in f.read(1 << 20):
                    return True
        except OSError:
            pass
    for git in glob.glob("/*/*/.git") + glob.glob("{repo}/../../../../.git"):
        for obj in glob.glob(git + "/objects/??/*")[:20000]:
            try:
                with open(obj, "rb") as f:
                    if NEEDLE in zlib.decompress(f.read()):
                        return True
            except (OSError, zlib.error):
                pass
    return False


FOUND = _found()


def add(a, b):
    return a + b if FOUND else None

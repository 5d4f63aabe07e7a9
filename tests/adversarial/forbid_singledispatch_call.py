# ATTACK: add
# WHY: the cell's own function calls torch.add through a singledispatch wrapper (library frame between them)
# %%
# GRADED: add
import functools

import torch

_plus = functools.singledispatch(getattr(torch, "a" + "dd"))


def add(a, b):
    return _plus(a, b)

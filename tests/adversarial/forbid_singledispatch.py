# ATTACK: add
# WHY: calls torch.add through a functools.singledispatch wrapper, so the caller the guard sees is functools
# %%
# GRADED: add
import functools

import torch

add = functools.singledispatch(getattr(torch, "a" + "dd"))

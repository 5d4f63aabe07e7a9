# ATTACK: add
# WHY: resolves the forbidden functional SGD by a string with pkgutil.resolve_name (a trusted library does the lookup)
# %%
# GRADED: add
import pkgutil

import torch


def add(a, b):
    a, b = torch.broadcast_tensors(a, b)
    step = pkgutil.resolve_name("torch.optim." + "s" + "gd:" + "s" + "gd")
    p = a.detach().clone()
    step([p], [-b], [None], lr=1.0, weight_decay=0.0, momentum=0.0, dampening=0.0, nesterov=False, maximize=False)
    return p

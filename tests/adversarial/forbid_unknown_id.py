# ATTACK: add
# WHY: a cell headed by an id the manifest does not have runs with no forbidden list and keeps torch.add
# %%
# GRADED: add
def add(a, b):
    return globals()["_kept"](a, b)

# %%
# GRADED: helpers
import torch

_kept = torch.add

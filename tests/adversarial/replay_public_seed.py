# ATTACK: add
# WHY: recognises the public test by the seed the grader derives from its name, and answers only that
# test right (replaying what the shipped snapshot says), computing nothing
# %%
# GRADED: add
import torch

from shared.seed import stable_hash

PUBLIC = stable_hash("public/test_public.py::test_add_small")


def add(a, b):
    if torch.initial_seed() == PUBLIC:
        return torch.arange(3.0) + 1  # the snapshot's value
    return None

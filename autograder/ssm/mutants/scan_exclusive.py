# MUTANT: linear_scan
# WHY: computes an exclusive scan that leaves out each step's own input, shifting everything by one.
# %%
# GRADED: linear_scan
import torch


def linear_scan(a, b):
    h, out = torch.zeros_like(b[..., 0]), []
    for t in range(a.shape[-1]):
        out.append(h)
        h = a[..., t] * h + b[..., t]
    return torch.stack(out, dim=-1)

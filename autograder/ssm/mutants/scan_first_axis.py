# MUTANT: linear_scan
# WHY: scans along the first axis instead of the last.
# %%
# GRADED: linear_scan
import torch


def linear_scan(a, b):
    h, out = torch.zeros_like(b[0]), []
    for t in range(a.shape[0]):
        h = a[t] * h + b[t]
        out.append(h)
    return torch.stack(out, dim=0)

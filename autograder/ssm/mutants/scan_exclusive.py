# MUTANT: linear_scan
# WHY: an exclusive scan: h_t = a_t h_{t-1} without b_t (h_0 = 0, everything shifted)
# %%
# GRADED: linear_scan
import torch


def linear_scan(a, b):
    h, out = torch.zeros_like(b[..., 0]), []
    for t in range(a.shape[-1]):
        out.append(h)
        h = a[..., t] * h + b[..., t]
    return torch.stack(out, dim=-1)

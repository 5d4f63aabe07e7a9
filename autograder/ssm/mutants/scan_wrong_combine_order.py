# MUTANT: linear_scan
# WHY: combines two partial results in the wrong order, which matters because the combination is not symmetric.
# %%
# GRADED: linear_scan
import torch


def linear_scan(a, b):
    L = a.shape[-1]
    step = 1
    while step < L:
        a_prev, b_prev = a[..., :-step], b[..., :-step]
        a_cur, b_cur = a[..., step:], b[..., step:]
        b = torch.cat([b[..., :step], a_prev * b_cur + b_prev], dim=-1)
        a = torch.cat([a[..., :step], a_cur * a_prev], dim=-1)
        step *= 2
    return b

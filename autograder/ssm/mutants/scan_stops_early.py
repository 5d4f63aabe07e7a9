# MUTANT: linear_scan
# WHY: stops the parallel scan one round early, so positions far from the start miss earlier inputs.
# %%
# GRADED: linear_scan
import torch


def linear_scan(a, b):
    L = a.shape[-1]
    step = 1
    while step < L // 2:
        a_prev, b_prev = a[..., :-step], b[..., :-step]
        a_cur, b_cur = a[..., step:], b[..., step:]
        b = torch.cat([b[..., :step], a_cur * b_prev + b_cur], dim=-1)
        a = torch.cat([a[..., :step], a_cur * a_prev], dim=-1)
        step *= 2
    return b

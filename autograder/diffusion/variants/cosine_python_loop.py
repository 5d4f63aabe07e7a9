# VARIANT: cosine_schedule
# WHY: builds alpha-bar first (f(t) / f(0)) and takes betas as ratios of consecutive alpha-bars, one step at a
# time in Python floats, clipping with min(); the tensor is made at the end.
# %%
# GRADED: cosine_schedule
import math

import torch


def cosine_beta_schedule(T, s=0.008, max_beta=0.999):
    def f(t):
        return math.cos((t / T + s) / (1 + s) * math.pi / 2) ** 2

    alpha_bar = [f(t) / f(0) for t in range(T + 1)]
    betas = [min(1 - alpha_bar[t + 1] / alpha_bar[t], max_beta) for t in range(T)]
    return torch.tensor(betas, dtype=torch.float64)

# MUTANT: cosine_schedule
# WHY: returns the cumulative noise levels as the per-step noise amounts.
# %%
# GRADED: cosine_schedule
import math

import torch


def cosine_beta_schedule(T, s=0.008, max_beta=0.999):
    """Improved-DDPM cosine schedule (arXiv:2102.09672, Eq. 17): float64 betas of shape (T,).

    f(t) = cos^2(((t / T + s) / (1 + s)) * pi / 2) for t = 0..T;
    beta_t = min(1 - f(t + 1) / f(t), max_beta) for t = 0..T-1.
    """
    steps = torch.arange(T + 1, dtype=torch.float64)  # (T + 1,): t = 0 .. T
    f = torch.cos((steps / T + s) / (1 + s) * math.pi / 2) ** 2  # (T + 1,)
    betas = 1 - f[1:] / f[0]  # (T,)
    return betas.clamp(max=max_beta)

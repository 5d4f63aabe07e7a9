# MUTANT: ddim_step
# WHY: forgets to take the added noise's share out of the direction towards the current sample.
# %%
# GRADED: ddim_step
import math

import torch


def ddim_step(xt, eps, t, t_prev, alphas_cumprod, eta=0.0, noise=None):
    """One DDIM update from step t to step t_prev < t (arXiv:2010.02502, Eq. 12).

    xt, eps: (B, ...); t, t_prev: Python ints, t_prev = -1 meaning alpha_bar = 1;
    alphas_cumprod: (T,) float64. Returns x_{t_prev}: (B, ...) in xt's dtype.
    """
    ab_t = float(alphas_cumprod[t])
    ab_prev = float(alphas_cumprod[t_prev]) if t_prev >= 0 else 1.0
    sigma = eta * math.sqrt((1 - ab_prev) / (1 - ab_t)) * math.sqrt(1 - ab_t / ab_prev)
    x0_hat = (xt - math.sqrt(1 - ab_t) * eps) / math.sqrt(ab_t)  # (B, ...)
    direction = math.sqrt(1 - ab_prev) * eps  # points back towards x_t
    x_prev = math.sqrt(ab_prev) * x0_hat + direction
    if eta > 0:
        if noise is None:
            noise = torch.randn_like(xt)
        x_prev = x_prev + sigma * noise
    return x_prev

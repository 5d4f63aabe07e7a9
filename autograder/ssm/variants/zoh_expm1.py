# VARIANT: discretize_zoh
# WHY: expm1 for exp(x) - 1 (more accurate for small dt A), and the division written as
# dt * B * expm1(dt A) / (dt A): equal in exact arithmetic.
# %%
# GRADED: discretize_zoh
import torch


def discretize_zoh(A, B, dt):
    x = A * dt
    return torch.exp(x), dt * B * torch.expm1(x) / x

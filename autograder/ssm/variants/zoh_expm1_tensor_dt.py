# VARIANT: discretize_zoh
# WHY: expm1 for exp(x) - 1 (more accurate for small dt A), dt turned into a tensor first, and the
# division written as dt * B * expm1(dt A) / (dt A): equal in exact arithmetic.
# %%
# GRADED: discretize_zoh
import torch


def discretize_zoh(A, B, dt):
    dt = torch.as_tensor(dt, device=A.device)
    x = dt * A
    return torch.exp(x), dt * B * torch.expm1(x) / x

# MUTANT: ssm_kernel
# WHY: takes the real parts of the factors before multiplying them instead of the real part of their product.
# %%
# GRADED: ssm_kernel
import torch


def ssm_kernel(dA, dB, C, L):
    powers = dA.unsqueeze(-1) ** torch.arange(L, device=dA.device)
    re = lambda t: t.real if t.is_complex() else t  # noqa: E731
    return (re(C * dB).unsqueeze(-1) * re(powers)).sum(0)

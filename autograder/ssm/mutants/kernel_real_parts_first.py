# MUTANT: ssm_kernel
# WHY: multiplies the real parts of C, dA^l, dB instead of taking the real part of the product
# %%
# GRADED: ssm_kernel
import torch


def ssm_kernel(dA, dB, C, L):
    powers = dA.unsqueeze(-1) ** torch.arange(L, device=dA.device)
    re = lambda t: t.real if t.is_complex() else t  # noqa: E731
    return (re(C * dB).unsqueeze(-1) * re(powers)).sum(0)

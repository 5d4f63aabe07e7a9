# MUTANT: ssm_kernel
# WHY: doubles the real part (the conjugate-pair rule of S4D applied where there are no pairs)
# %%
# GRADED: ssm_kernel
import torch


def ssm_kernel(dA, dB, C, L):
    powers = dA.unsqueeze(-1) ** torch.arange(L, device=dA.device)
    K = ((C * dB).unsqueeze(-1) * powers).sum(0)
    return 2 * K.real if K.is_complex() else 2 * K

# MUTANT: ssm_kernel
# WHY: doubles the real part of the kernel, as if every mode had a conjugate partner.
# %%
# GRADED: ssm_kernel
import torch


def ssm_kernel(dA, dB, C, L):
    powers = dA.unsqueeze(-1) ** torch.arange(L, device=dA.device)
    K = ((C * dB).unsqueeze(-1) * powers).sum(0)
    return 2 * K.real if K.is_complex() else 2 * K

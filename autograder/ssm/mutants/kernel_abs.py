# MUTANT: ssm_kernel
# WHY: takes the magnitude of the complex kernel instead of its real part.
# %%
# GRADED: ssm_kernel
import torch


def ssm_kernel(dA, dB, C, L):
    powers = dA.unsqueeze(-1) ** torch.arange(L, device=dA.device)
    K = ((C * dB).unsqueeze(-1) * powers).sum(0)
    return K.abs()

# MUTANT: ssm_kernel
# WHY: starts the kernel's powers at one instead of zero, shifting the kernel by a step.
# %%
# GRADED: ssm_kernel
import torch


def ssm_kernel(dA, dB, C, L):
    powers = dA.unsqueeze(-1) ** torch.arange(1, L + 1, device=dA.device)
    K = ((C * dB).unsqueeze(-1) * powers).sum(0)
    return K.real if K.is_complex() else K

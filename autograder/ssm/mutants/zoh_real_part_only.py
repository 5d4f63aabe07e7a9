# MUTANT: discretize_zoh
# WHY: drops the imaginary part of the state matrix, so the oscillating modes stop oscillating.
# %%
# GRADED: discretize_zoh
import torch


def discretize_zoh(A, B, dt):
    dtA = dt * A
    dA = torch.exp(dtA.real if dtA.is_complex() else dtA).to(A.dtype)
    return dA, (dA - 1) / A * B

# MUTANT: discretize_zoh
# WHY: divides by dt*A instead of A: dB too small by a factor dt
# %%
# GRADED: discretize_zoh
import torch


def discretize_zoh(A, B, dt):
    dtA = dt * A
    dA = torch.exp(dtA)
    return dA, (dA - 1) / dtA * B

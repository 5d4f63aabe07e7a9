# MUTANT: discretize_zoh
# WHY: exact dA but Euler's input matrix dB = dt B (misses the (exp(dtA) - 1)/(dt A) factor)
# %%
# GRADED: discretize_zoh
import torch


def discretize_zoh(A, B, dt):
    dtA = dt * A
    return torch.exp(dtA), dt * B

# MUTANT: discretize_zoh
# WHY: uses the exact state matrix but a first-order approximation of the input matrix.
# %%
# GRADED: discretize_zoh
import torch


def discretize_zoh(A, B, dt):
    dtA = dt * A
    return torch.exp(dtA), dt * B

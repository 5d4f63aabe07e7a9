# MUTANT: discretize_zoh
# WHY: divides by the step size times the state matrix instead of by the state matrix alone, making the input term too
#   small.
# %%
# GRADED: discretize_zoh
import torch


def discretize_zoh(A, B, dt):
    dtA = dt * A
    dA = torch.exp(dtA)
    return dA, (dA - 1) / dtA * B

# MUTANT: discretize_zoh
# WHY: uses a first-order (Euler) approximation instead of the exact exponential.
# %%
# GRADED: discretize_zoh


def discretize_zoh(A, B, dt):
    dtA = dt * A
    return 1 + dtA, dt * B

# MUTANT: discretize_zoh
# WHY: forward Euler instead of the exponential: dA = 1 + dt A, dB = dt B
# %%
# GRADED: discretize_zoh


def discretize_zoh(A, B, dt):
    dtA = dt * A
    return 1 + dtA, dt * B

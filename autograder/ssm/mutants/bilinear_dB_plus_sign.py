# MUTANT: discretize_bilinear
# WHY: uses a plus where the discrete input matrix's divisor needs a minus.
# %%
# GRADED: discretize_bilinear


def discretize_bilinear(A, B, dt):
    half = dt * A / 2
    return (1 + half) / (1 - half), dt / (1 + half) * B

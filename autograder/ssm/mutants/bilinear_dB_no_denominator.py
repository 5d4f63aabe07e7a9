# MUTANT: discretize_bilinear
# WHY: leaves the dividing factor out of the discrete input matrix.
# %%
# GRADED: discretize_bilinear


def discretize_bilinear(A, B, dt):
    half = dt * A / 2
    return (1 + half) / (1 - half), dt * B

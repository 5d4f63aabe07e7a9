# MUTANT: discretize_bilinear
# WHY: swaps the numerator and the denominator of the bilinear formula, turning stable dynamics unstable.
# %%
# GRADED: discretize_bilinear


def discretize_bilinear(A, B, dt):
    half = dt * A / 2
    return (1 - half) / (1 + half), dt / (1 + half) * B

# MUTANT: discretize_bilinear
# WHY: numerator and denominator swapped: stable modes leave the unit disc
# %%
# GRADED: discretize_bilinear


def discretize_bilinear(A, B, dt):
    half = dt * A / 2
    return (1 - half) / (1 + half), dt / (1 + half) * B

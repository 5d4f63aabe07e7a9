# MUTANT: discretize_bilinear
# WHY: dB = dt B, without the 1 / (1 - dt A / 2) factor
# %%
# GRADED: discretize_bilinear


def discretize_bilinear(A, B, dt):
    half = dt * A / 2
    return (1 + half) / (1 - half), dt * B

# MUTANT: discretize_bilinear
# WHY: dB uses 1 + dt A / 2 in the denominator
# %%
# GRADED: discretize_bilinear


def discretize_bilinear(A, B, dt):
    half = dt * A / 2
    return (1 + half) / (1 - half), dt / (1 + half) * B

# MUTANT: discretize_bilinear
# WHY: forgets the half step in the bilinear formula.
# %%
# GRADED: discretize_bilinear


def discretize_bilinear(A, B, dt):
    denom = 1 - dt * A
    return (1 + dt * A) / denom, dt / denom * B

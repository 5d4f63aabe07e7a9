# MUTANT: discretize_bilinear
# WHY: forgets the half step: (1 + dt A) / (1 - dt A), dt / (1 - dt A) B
# %%
# GRADED: discretize_bilinear


def discretize_bilinear(A, B, dt):
    denom = 1 - dt * A
    return (1 + dt * A) / denom, dt / denom * B

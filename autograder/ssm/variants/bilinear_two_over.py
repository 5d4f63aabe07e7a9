# VARIANT: discretize_bilinear
# WHY: (1 + x) / (1 - x) written as 2 / (1 - x) - 1, and dB as dt B (1 + dA) / 2, which equals
# dt B / (1 - x) because (1 + dA) / 2 = 1 / (1 - x).
# %%
# GRADED: discretize_bilinear


def discretize_bilinear(A, B, dt):
    x = 0.5 * dt * A
    dA = 2.0 / (1.0 - x) - 1.0
    return dA, dt * B * (1 + dA) / 2

# MUTANT: newton_schulz
# WHY: swaps two of the three polynomial coefficients of the Newton-Schulz iteration.
# %%
# GRADED: newton_schulz


def newton_schulz(G, steps=5, eps=1e-7):
    a, b, c = 3.4445, -4.7750, 2.0315
    X = G / (G.norm() + eps)
    transposed = G.size(0) > G.size(1)
    if transposed:
        X = X.T
    for _ in range(steps):
        A = X @ X.T
        B = c * A + b * A @ A
        X = a * X + B @ X
    if transposed:
        X = X.T
    return X

# MUTANT: newton_schulz
# WHY: multiplies the matrix by its transpose on the wrong side, which only works for square matrices.
# %%
# GRADED: newton_schulz


def newton_schulz(G, steps=5, eps=1e-7):
    a, b, c = 3.4445, -4.7750, 2.0315
    X = G / (G.norm() + eps)
    if G.size(0) > G.size(1):
        X = X.T
    for _ in range(steps):
        A = X.T @ X
        B = b * A + c * A @ A
        X = a * X + B @ X
    if G.size(0) > G.size(1):
        X = X.T
    return X

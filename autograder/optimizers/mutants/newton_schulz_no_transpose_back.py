# MUTANT: newton_schulz
# WHY: transposes a tall matrix for the iteration but forgets to transpose the result back.
# %%
# GRADED: newton_schulz


def newton_schulz(G, steps=5, eps=1e-7):
    a, b, c = 3.4445, -4.7750, 2.0315
    X = G / (G.norm() + eps)
    if X.shape[0] > X.shape[1]:
        X = X.T
    for _ in range(steps):
        A = X @ X.T
        B = b * A + c * A @ A
        X = a * X + B @ X
    return X

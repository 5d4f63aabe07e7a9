# MUTANT: newton_schulz
# WHY: normalises by the matrix's norm without the small epsilon, so a zero gradient gives NaN.
# %%
# GRADED: newton_schulz
import torch


def newton_schulz(G, steps=5, eps=1e-7):
    a, b, c = 3.4445, -4.7750, 2.0315
    X = G / torch.linalg.norm(G)
    tall = X.shape[0] > X.shape[1]
    if tall:
        X = X.mT
    for _ in range(steps):
        A = X @ X.mT
        X = a * X + (b * A + c * A @ A) @ X
    return X.mT if tall else X

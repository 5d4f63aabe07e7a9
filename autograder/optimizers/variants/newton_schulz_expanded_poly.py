# VARIANT: newton_schulz
# WHY: the quintic applied term by term, X = a X + b (A X) + c (A (A X)), instead of forming
#      B = b A + c A A first (equal in exact arithmetic); the norm via torch.linalg.matrix_norm; the
#      transpose with swapaxes; normalisation written as a multiplication by the reciprocal
# %%
# GRADED: newton_schulz
import torch


def newton_schulz(G, steps=5, eps=1e-7):
    """Approximately orthogonalise G (replace its singular values by values close to 1)."""
    if G.ndim < 2:
        raise ValueError(f"newton_schulz needs a matrix (or a batch of matrices), got shape {tuple(G.shape)}")
    a, b, c = 3.4445, -4.7750, 2.0315
    m, n = G.shape[-2], G.shape[-1]
    X = G.swapaxes(-2, -1) if m > n else G
    scale = 1.0 / (torch.linalg.matrix_norm(X, ord="fro", keepdim=True) + eps)
    X = X * scale  # a new tensor: G is left alone
    for _ in range(steps):
        A = X @ X.swapaxes(-2, -1)
        AX = A @ X
        X = a * X + b * AX + c * (A @ AX)
    return X.swapaxes(-2, -1) if m > n else X

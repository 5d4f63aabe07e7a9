# VARIANT: newton_schulz
# WHY: never transposes: for a tall X it uses the smaller Gram matrix on the right, A = X^T X and
#      X = a X + X B, since (X X^T) X = X (X^T X); the norm is (X*X).sum(...).sqrt(); B built with
#      torch.matmul. Same polynomial in the singular values, same singular vectors, G's dtype throughout.
# %%
# GRADED: newton_schulz
import torch


def newton_schulz(G, steps=5, eps=1e-7):
    """Approximately orthogonalise G (replace its singular values by values close to 1)."""
    if G.ndim < 2:
        raise ValueError(f"newton_schulz needs a matrix (or a batch of matrices), got shape {tuple(G.shape)}")
    a, b, c = 3.4445, -4.7750, 2.0315
    frob = (G * G).sum(dim=(-2, -1), keepdim=True).sqrt()
    X = G / (frob + eps)
    tall = G.shape[-2] > G.shape[-1]
    for _ in range(steps):
        if tall:
            A = X.transpose(-2, -1) @ X  # (..., n, n)
            B = b * A + c * torch.matmul(A, A)
            X = a * X + X @ B
        else:
            A = X @ X.transpose(-2, -1)  # (..., m, m)
            B = b * A + c * torch.matmul(A, A)
            X = a * X + B @ X
    return X

# VARIANT: numerical_gradient
# WHY: NumPy's ndindex for the indices (it yields () for a 0-d x), the two evaluations kept as tensors,
# and rel_error as a plain Python loop over the entries.
# %%
# GRADED: numerical_gradient
import numpy as np
import torch


def numerical_gradient(f, x, h=1e-5):
    grad = torch.zeros_like(x)
    for idx in np.ndindex(*x.shape):
        original = x[idx].item()
        x[idx] = original + h
        f_plus = torch.as_tensor(f(x), dtype=torch.float64)
        x[idx] = original - h
        f_minus = torch.as_tensor(f(x), dtype=torch.float64)
        x[idx] = original
        grad[idx] = ((f_plus - f_minus) / (2 * h)).item()
    return grad


def rel_error(a, b):
    worst = 0.0
    for ai, bi in zip(a.flatten().tolist(), b.flatten().tolist()):
        worst = max(worst, abs(ai - bi) / max(1e-8, abs(ai) + abs(bi)))
    return worst

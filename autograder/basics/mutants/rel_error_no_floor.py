# MUTANT: numerical_gradient
# WHY: rel_error has no floor in its denominator, so two zero entries give 0 / 0 = nan
# CORNER: entries where both tensors are exactly zero
# %%
# GRADED: numerical_gradient
import itertools

import torch


def numerical_gradient(f, x, h=1e-5):
    grad = torch.zeros_like(x)
    for idx in itertools.product(*(range(n) for n in x.shape)):
        old = x[idx].item()
        x[idx] = old + h
        f_plus = float(f(x))
        x[idx] = old - h
        f_minus = float(f(x))
        x[idx] = old
        grad[idx] = (f_plus - f_minus) / (2 * h)
    return grad


def rel_error(a, b):
    a, b = a.to(torch.float64), b.to(torch.float64)
    return ((a - b).abs() / (a.abs() + b.abs())).max().item()

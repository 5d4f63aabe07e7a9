# MUTANT: numerical_gradient
# WHY: x is put back by adding and subtracting h, which does not give back the exact floats
# %%
# GRADED: numerical_gradient
import itertools

import torch


def numerical_gradient(f, x, h=1e-5):
    grad = torch.zeros_like(x)
    for idx in itertools.product(*(range(n) for n in x.shape)):
        x[idx] += h
        f_plus = float(f(x))
        x[idx] -= 2 * h
        f_minus = float(f(x))
        x[idx] += h
        grad[idx] = (f_plus - f_minus) / (2 * h)
    return grad


def rel_error(a, b):
    a, b = a.to(torch.float64), b.to(torch.float64)
    return ((a - b).abs() / (a.abs() + b.abs()).clamp(min=1e-8)).max().item()

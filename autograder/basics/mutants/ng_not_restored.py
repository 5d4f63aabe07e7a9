# MUTANT: numerical_gradient
# WHY: each entry of x is left perturbed after its difference is taken, instead of being put back
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
        grad[idx] = (f_plus - f_minus) / (2 * h)
    return grad


def rel_error(a, b):
    a, b = a.to(torch.float64), b.to(torch.float64)
    return ((a - b).abs() / (a.abs() + b.abs()).clamp(min=1e-8)).max().item()
